//! Logging: `tracing` to stderr (CloudWatch in Lambda), JSON when
//! `AWS_LAMBDA_LOG_FORMAT=JSON`, at the config's `log_level` for the
//! supervisor and the script's output, WARN for the libraries below it.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// Maps SCAR's level names (Python logging's) to a filter.
pub fn level_of(name: Option<&str>) -> LevelFilter {
    match name.map(|n| n.trim().to_ascii_uppercase()).as_deref() {
        Some("TRACE") => LevelFilter::TRACE,
        Some("DEBUG") => LevelFilter::DEBUG,
        Some("WARNING" | "WARN") => LevelFilter::WARN,
        Some("ERROR" | "CRITICAL" | "FATAL") => LevelFilter::ERROR,
        Some("OFF" | "NONE") => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// Installs the global subscriber (once; later calls do nothing).
pub fn init(level: LevelFilter, json: bool) {
    let deps = if level == LevelFilter::TRACE {
        LevelFilter::DEBUG
    } else {
        LevelFilter::WARN.min(level)
    };
    let filter = Targets::new()
        .with_target("scar_supervisor", level)
        .with_target("script", level)
        .with_default(deps);
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()
    };
    let _ = result;
}
