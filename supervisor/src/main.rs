//! The `scar-supervisor` binary (also shipped as the Lambda `bootstrap`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime_api = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some_and(|v| !v.is_empty());
    let mode = match scar_supervisor::app::parse_args(&args, runtime_api) {
        Ok(mode) => mode,
        Err((text, ok)) => {
            if ok {
                print!("{text}");
                return ExitCode::SUCCESS;
            }
            eprint!("{text}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(scar_supervisor::app::main(mode))
}
