//! Start-up shared by both modes: read the config, set up logging, build the
//! AWS clients, then serve the Runtime API or handle one command-mode event.
//! A config that cannot be read is an init error in Lambda and a 500-shaped
//! response (exit 1) in command mode.

use std::process::ExitCode;
use std::sync::Arc;

use crate::command::{self, EventSource};
use crate::config;
use crate::invoke::Supervisor;
use crate::response::{self, Ids};
use crate::storage::{Storage, MULTIPART_THRESHOLD};
use crate::{event, lambda, logging, net};

/// How the binary was asked to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Lambda,
    Command(EventSource),
}

/// Parses the command line. `Err` carries the text to print (help or a usage error).
pub fn parse_args(args: &[String], runtime_api: bool) -> Result<Mode, (String, bool)> {
    let usage = "usage: scar-supervisor [lambda | run [--event <file>|-]]\n\n\
        lambda   serve the Lambda Runtime API (the default when AWS_LAMBDA_RUNTIME_API is set)\n\
        run      handle one event from --event <file> (`-` = stdin), else env EVENT, else stdin\n";
    let mut it = args.iter().map(String::as_str);
    let mode = match it.next() {
        None if runtime_api => return Ok(Mode::Lambda),
        None => return Ok(Mode::Command(EventSource::Default)),
        Some("lambda") => Mode::Lambda,
        Some("run") => Mode::Command(EventSource::Default),
        Some("-h" | "--help" | "help") => return Err((usage.to_string(), true)),
        Some("-V" | "--version") => {
            return Err((
                format!("scar-supervisor {}\n", env!("CARGO_PKG_VERSION")),
                true,
            ))
        }
        Some(other) => {
            return Err((
                format!("error: unknown argument {other:?}\n\n{usage}"),
                false,
            ))
        }
    };
    match (mode, it.next(), it.next(), it.next()) {
        (m, None, _, _) => Ok(m),
        (Mode::Command(_), Some("--event"), Some("-"), None) => {
            Ok(Mode::Command(EventSource::Stdin))
        }
        (Mode::Command(_), Some("--event"), Some(path), None) => {
            Ok(Mode::Command(EventSource::File(path.into())))
        }
        _ => Err((format!("error: unexpected arguments\n\n{usage}"), false)),
    }
}

/// The variables the Lambda runtime always sets; `lambda_runtime` needs them.
fn missing_lambda_env() -> Option<&'static str> {
    let int = |k| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse::<i32>().ok())
            .is_some()
    };
    let set = |k| std::env::var(k).is_ok_and(|v| !v.is_empty());
    [
        ("AWS_LAMBDA_RUNTIME_API", set("AWS_LAMBDA_RUNTIME_API")),
        ("AWS_LAMBDA_FUNCTION_NAME", set("AWS_LAMBDA_FUNCTION_NAME")),
        (
            "AWS_LAMBDA_FUNCTION_VERSION",
            set("AWS_LAMBDA_FUNCTION_VERSION"),
        ),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            int("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
        ),
    ]
    .into_iter()
    .find(|(_, ok)| !ok)
    .map(|(name, _)| name)
}

/// Runs the binary.
pub async fn main(mode: Mode) -> ExitCode {
    if mode == Mode::Lambda {
        if let Some(var) = missing_lambda_env() {
            eprintln!(
                "error: lambda mode needs {var} (set by the Lambda runtime)\n\
                 hint: outside Lambda, use `scar-supervisor run --event <file>`"
            );
            return ExitCode::FAILURE;
        }
    }
    let env = |k: &str| std::env::var(k).ok();
    let loaded = config::load(&env);
    // The config's log_level (or env LOG_LEVEL), else Lambda's own
    // AWS_LAMBDA_LOG_LEVEL (advanced logging controls), else INFO.
    let level_name = match &loaded {
        Ok(l) => l.config.log_level.clone(),
        Err(_) => env("LOG_LEVEL"),
    }
    .or_else(|| env("AWS_LAMBDA_LOG_LEVEL"));
    let json = env("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    logging::init(logging::level_of(level_name.as_deref()), json);

    // One resolver for every name the process looks up, never libc's: a
    // static binary must not go through its name service (see `net`).
    let resolver = net::HostResolver::from_system();
    if mode == Mode::Lambda {
        if let Err(e) = resolve_runtime_api(&resolver).await {
            tracing::error!("{}", chain(&e));
            return ExitCode::FAILURE;
        }
    }

    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            let message = chain(&e);
            tracing::error!(error_type = "ConfigUnreadable", "{message}");
            return match mode {
                Mode::Lambda => {
                    lambda::report_init_error("ConfigUnreadable", &message).await;
                    ExitCode::FAILURE
                }
                Mode::Command(_) => {
                    let ids = Ids {
                        request_id: command::request_id(),
                        ..Ids::default()
                    };
                    println!("{}", response::error(&ids, "ConfigUnreadable", &message));
                    ExitCode::FAILURE
                }
            };
        }
    };
    tracing::debug!(source = %loaded.source, config = ?loaded.config, "function config loaded");

    let env_script = match env("SCRIPT").filter(|s| !s.trim().is_empty()) {
        Some(s) => match event::decode_b64(&s) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                tracing::warn!(error = %e, "env SCRIPT is not valid base64: ignored");
                None
            }
        },
        None => None,
    };
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(net::aws_http_client(resolver))
        .load()
        .await;
    let sup = Supervisor {
        storage: Storage::new(sdk.clone(), loaded.config.storage_providers.clone()),
        batch: aws_sdk_batch::Client::new(&sdk),
        config: loaded,
        env_script,
        tmp_parent: std::env::temp_dir(),
        in_lambda: mode == Mode::Lambda,
        timeout_threshold_env: env("TIMEOUT_THRESHOLD"),
        multipart_threshold: env("SCAR_MULTIPART_THRESHOLD")
            .and_then(|v| v.parse().ok())
            .unwrap_or(MULTIPART_THRESHOLD),
    };
    match mode {
        Mode::Lambda => match Box::pin(lambda::run(Arc::new(sup))).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "the Runtime API loop ended");
                ExitCode::FAILURE
            }
        },
        Mode::Command(source) => match command::read_event(&source) {
            Ok(payload) => Box::pin(command::run(&sup, payload)).await,
            Err(e) => {
                let message = format!("cannot read the event ({source:?}): {e}");
                tracing::error!("{message}");
                let ids = Ids {
                    request_id: command::request_id(),
                    ..Ids::default()
                };
                println!("{}", response::error(&ids, "EventUnreadable", &message));
                ExitCode::FAILURE
            }
        },
    }
}

/// Makes `AWS_LAMBDA_RUNTIME_API` an address when it names a host (Lambda
/// gives an IP; an emulator may give a name). The Lambda runtime client reads
/// that variable and would resolve a name with libc's `getaddrinfo`, so the
/// name is resolved here, with [`net::HostResolver`], and the variable
/// rewritten. It is set while the process has a single thread (nothing has
/// been spawned yet), the one time `set_var` is sound.
async fn resolve_runtime_api(
    resolver: &net::HostResolver,
) -> Result<(), net::dns::RuntimeApiError> {
    let value = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
    if let Some(address) = net::dns::resolve_runtime_api(resolver, &value).await? {
        tracing::debug!(runtime_api = %value, %address, "resolved the Runtime API host");
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", address);
    }
    Ok(())
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
