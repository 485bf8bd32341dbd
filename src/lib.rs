//! scar: SCAR function workflows on AWS Lambda and AWS Batch, as a
//! declarative reconciler. See ARCHITECTURE.md (shared design) for the map:
//! manifest → desired state → plan → apply, with the cloud behind traits.

pub mod apply;
pub mod cli;
pub mod cloud;
pub mod commands;
pub mod desired;
pub mod hash;
pub mod manifest;
pub mod model;
pub mod observe;
pub mod package;
pub mod pipeline;
pub mod plan;
pub mod render;
pub mod secrets;
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
    init_tracing(cli.global.verbose);
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
    let result = runtime.block_on(run(cli));
    match result {
        Ok(status) => status.into(),
        Err(e) => {
            print_error(&e);
            ExitCode::from(1)
        }
    }
}

async fn run(cli: cli::Cli) -> anyhow::Result<commands::ExitStatus> {
    match &cli.command {
        cli::Command::Validate(args) => commands::validate::run(&cli.global, args).await,
        cli::Command::Plan(args) => commands::plan::run(&cli.global, args).await,
        cli::Command::Apply(args) => commands::apply::run(&cli.global, args).await,
        cli::Command::Destroy(args) => commands::apply::destroy(&cli.global, args).await,
        cli::Command::Schema(args) => commands::schema::run(args),
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

/// Logs on stderr: `SCAR_LOG` if set, else by `-v`. By default only
/// warnings, and of the AWS configuration loader only errors: its warnings
/// (IMDS unreachable off EC2, each credential provider that found nothing)
/// are what every run without AWS settings would print, and `connect`
/// turns a missing region or credentials into one error with a hint.
fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn,aws_config=error",
        // With -v, also where the SDK looked for region and credentials.
        1 => "scar=debug,aws_config=debug,info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("SCAR_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(terminal::Stderr)
        .with_ansi(
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
        .try_init();
}
