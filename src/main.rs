//! The `scar` binary: parse the command line, run a command, exit.

fn main() -> std::process::ExitCode {
    scar::main_entry()
}
