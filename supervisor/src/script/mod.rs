//! Runs the user's program (a script with `/bin/sh`, or `cmd_args`) in its own
//! process group, logs its output (stdout and stderr, in one stream as SCAR
//! kept it) at INFO line by line as it comes, keeps it for the response (up
//! to a limit), and kills the whole group at
//! the deadline. When the program ends, whatever it left running in its
//! group is killed too, so nothing outlives the invocation.

mod output;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use rustix::process::{kill_process_group, Pid, Signal};
use tokio::time::Instant;

use output::Collector;

/// What to run.
#[derive(Debug, Clone)]
pub enum Program {
    /// `/bin/sh <path>`.
    Script(PathBuf),
    /// An argv, run directly.
    Command(Vec<String>),
}

impl Program {
    /// For logs: the script path, or the command name and argument count
    /// (arguments may carry secrets, so they are not logged).
    pub fn describe(&self) -> String {
        match self {
            Program::Script(path) => format!("/bin/sh {}", path.display()),
            Program::Command(argv) => format!("{} (+{} arguments)", argv[0], argv.len() - 1),
        }
    }
}

/// How to run it.
#[derive(Debug)]
pub struct RunSpec {
    pub program: Program,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    /// Kill the process group at this instant.
    pub deadline: Option<Instant>,
    /// Keep at most this many bytes of output for the response.
    pub capture_limit: usize,
}

/// How the program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// Killed at the deadline.
    TimedOut,
}

/// The result of a run.
#[derive(Debug)]
pub struct RunOutcome {
    pub exit: Exit,
    /// stdout and stderr, in the order they were written.
    pub output: Vec<u8>,
    /// More output was produced than `capture_limit`.
    pub truncated: bool,
    pub elapsed: Duration,
}

/// The program could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start {what}")]
pub struct SpawnError {
    pub what: String,
    #[source]
    pub source: std::io::Error,
}

/// Runs the program to completion or to the deadline.
pub async fn run(spec: RunSpec) -> Result<RunOutcome, SpawnError> {
    let (mut cmd, what) = match &spec.program {
        Program::Script(path) => {
            let mut c = tokio::process::Command::new("/bin/sh");
            c.arg(path);
            (c, format!("/bin/sh {}", path.display()))
        }
        Program::Command(argv) => {
            let mut c = tokio::process::Command::new(&argv[0]);
            c.args(&argv[1..]);
            (c, format!("command {:?}", argv[0]))
        }
    };
    // One pipe for stdout and stderr, as SCAR's single output file: the
    // response keeps the order in which the script wrote.
    let (reader, writer) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| SpawnError {
            what: what.clone(),
            source: e.into(),
        })?;
    let writer_err = writer.try_clone().map_err(|source| SpawnError {
        what: what.clone(),
        source,
    })?;
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer_err))
        .process_group(0)
        .kill_on_drop(true);
    let started = Instant::now();
    let spawned = cmd.spawn();
    // The command holds the pipe's write end: drop it so the reader sees EOF
    // once the script's processes are gone.
    drop(cmd);
    let mut child = spawned.map_err(|source| SpawnError { what, source })?;
    let pgid = child.id().and_then(|id| Pid::from_raw(id as i32));
    let reader =
        tokio::net::unix::pipe::Receiver::from_owned_fd(reader).map_err(|source| SpawnError {
            what: "the output pipe".into(),
            source,
        })?;
    let collector = Collector::start(reader, spec.capture_limit);

    let waited = match spec.deadline {
        Some(deadline) => tokio::select! {
            status = child.wait() => Some(status),
            _ = tokio::time::sleep_until(deadline) => None,
        },
        None => Some(child.wait().await),
    };
    let exit = match waited {
        Some(Ok(status)) => exit_of(status),
        Some(Err(e)) => {
            tracing::error!(error = %e, "waiting for the script failed");
            Exit::Signal(0)
        }
        None => {
            tracing::warn!("the script reached its deadline: killing its process group");
            kill_group(pgid);
            let _ = child.wait().await;
            Exit::TimedOut
        }
    };
    // Background children left by the script die with the invocation.
    kill_group(pgid);
    let (output, truncated) = collector.finish(Duration::from_secs(2)).await;
    Ok(RunOutcome {
        exit,
        output,
        truncated,
        elapsed: started.elapsed(),
    })
}

fn kill_group(pgid: Option<Pid>) {
    if let Some(pgid) = pgid {
        // ESRCH (nothing left in the group) is the normal case.
        let _ = kill_process_group(pgid, Signal::KILL);
    }
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(sig)) => Exit::Signal(sig),
        (None, None) => Exit::Signal(0),
    }
}
