//! scar: SCAR function workflows on AWS Lambda and AWS Batch, as a
//! declarative reconciler. See ARCHITECTURE.md (shared design) for the map:
//! manifest → desired state → plan → apply, with the cloud behind traits.

pub mod apply;
pub mod cli;
pub mod cloud;
pub mod commands;
pub mod desired;
pub mod drift;
pub mod hash;
pub mod image;
pub mod local;
pub mod lock;
pub mod manifest;
pub mod model;
pub mod observe;
pub mod package;
pub mod pipeline;
pub mod plan;
pub mod render;
pub mod resources;
pub mod secrets;
pub mod settings;
pub mod terminal;

use std::process::ExitCode;

use clap::Parser;

/// Runs the command line; returns the process exit code.
pub fn main_entry() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let code = match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 1,
                _ => 1,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let settings = settings::Settings::from_process(&cli.global);
    init_tracing(&settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli, &settings));
    match result {
        Ok(status) => status.into(),
        Err(e) => {
            print_error(&e);
            ExitCode::from(1)
        }
    }
}

async fn run(cli: cli::Cli, settings: &settings::Settings) -> anyhow::Result<commands::ExitStatus> {
    match &cli.command {
        cli::Command::Validate(args) => commands::validate::run(settings, args).await,
        cli::Command::Plan(args) => commands::plan::run(settings, args).await,
        cli::Command::Apply(args) => commands::apply::run(settings, args).await,
        cli::Command::Drift(args) => commands::drift::run(settings, args).await,
        cli::Command::Destroy(args) => commands::apply::destroy(settings, args).await,
        cli::Command::ForceUnlock(args) => commands::apply::force_unlock(settings, args).await,
        cli::Command::Import(args) => commands::import::run(settings, args).await,
        cli::Command::RenameWorkflow(args) => {
            commands::apply::rename_workflow(settings, args).await
        }
        cli::Command::Schema(args) => commands::schema::run(args),
        cli::Command::Local(args) => commands::local::run(settings, args).await,
        cli::Command::Invoke(args) => commands::everyday::invoke::invoke(settings, args).await,
        cli::Command::Run(args) => commands::everyday::invoke::run(settings, args).await,
        cli::Command::Ls(args) => commands::everyday::ls::ls(settings, args).await,
        cli::Command::Logs(args) => commands::everyday::logs::logs(settings, args).await,
        cli::Command::Put(args) => commands::everyday::transfer::put(settings, args).await,
        cli::Command::Get(args) => commands::everyday::transfer::get(settings, args).await,
    }
}

/// Prints an error as `error:` / `Caused by:` lines, with any `hint:` last.
fn print_error(e: &anyhow::Error) {
    let text = e.to_string();
    let (msg, hint) = match text.split_once("\nhint: ") {
        Some((m, h)) => (m.to_string(), Some(h.to_string())),
        None => (text, None),
    };
    eprintln!("error: {msg}");
    for cause in e.chain().skip(1) {
        eprintln!("  Caused by: {cause}");
    }
    if let Some(h) = hint {
        eprintln!("hint: {h}");
    }
}

/// Logs on stderr: the `SCAR_LOG` filter of the settings if it parses, else
/// by `-v`; coloured as [`settings::Settings::log_color`] says. By default only
/// warnings, and of the AWS configuration loader only errors: its warnings
/// (IMDS unreachable off EC2, each credential provider that found nothing)
/// are what every run without AWS settings would print, and `connect`
/// turns a missing region or credentials into one error with a hint.
fn init_tracing(settings: &settings::Settings) {
    use tracing_subscriber::EnvFilter;
    let default = match settings.verbose {
        0 => "warn,aws_config=error",
        // With -v, also where the SDK looked for region and credentials.
        1 => "scar=debug,aws_config=debug,info",
        _ => "trace",
    };
    let filter = settings
        .log_filter
        .as_deref()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(terminal::Stderr)
        .with_ansi(settings.log_color)
        .try_init();
}
