//! The sandbox a local invocation runs in, on an existing rootless
//! runtime found on `PATH`: bubblewrap (`bwrap`). The image's root is
//! read-only but `/tmp` (a tmpfs), as on Lambda; the function layer's
//! `/var/task` is bound over it; `/proc` and `/dev` are its own, the
//! network is the host's (so servers on 127.0.0.1 are reachable); the
//! environment is only what the image's config and the invocation give.
//! An image without `/etc/hosts` or `/etc/resolv.conf` gets the host's
//! (as docker gives its own), so names resolve as on this machine.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use super::rootfs::HOST_FILES;

/// The runtimes scar knows, and the Debian package of each.
const BWRAP: (&str, &str) = ("bwrap", "bubblewrap");
/// Runtimes scar does not drive yet, named when found instead.
const OTHERS: [&str; 2] = ["crun", "runc"];

/// Why a sandbox could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no rootless container runtime was found on PATH{others}\nhint: apt-get install bubblewrap (scar runs images with its `bwrap`)")]
    NoRuntime { others: String },
    #[error("the function's image config is not what an image config holds: {why}")]
    Config { why: String },
}

/// The runtime that runs the sandbox.
#[derive(Clone, Debug)]
pub struct Runner {
    pub program: PathBuf,
}

/// `name` in one of the folders of `search_path` (a `PATH` value).
fn on_path(search_path: Option<&str>, name: &str) -> Option<PathBuf> {
    std::env::split_paths(search_path.unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The runtime on `search_path` (the settings' `PATH`): `bwrap`, else an
/// error naming what to install (and what was found instead).
pub fn find_runner(search_path: Option<&str>) -> Result<Runner, RunError> {
    if let Some(program) = on_path(search_path, BWRAP.0) {
        return Ok(Runner { program });
    }
    let found: Vec<&str> = OTHERS
        .into_iter()
        .filter(|n| on_path(search_path, n).is_some())
        .collect();
    let others = if found.is_empty() {
        String::new()
    } else {
        format!(
            " that scar drives (found {}, which it does not drive yet)",
            found.join(", ")
        )
    };
    Err(RunError::NoRuntime { others })
}

/// What an image's config says about running it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageRun {
    pub env: Vec<(String, String)>,
    pub argv: Vec<String>,
    pub working_dir: String,
}

/// The `Env`, `Entrypoint` + `Cmd` and `WorkingDir` of an image config.
pub fn image_run(config: &[u8]) -> Result<ImageRun, RunError> {
    let doc: Value =
        serde_json::from_slice(config).map_err(|e| RunError::Config { why: e.to_string() })?;
    let run = &doc["config"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let env = strings(&run["Env"])
        .into_iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv, String::new()),
        })
        .collect();
    let mut argv = strings(&run["Entrypoint"]);
    argv.extend(strings(&run["Cmd"]));
    if argv.is_empty() {
        return Err(RunError::Config {
            why: "it has neither Entrypoint nor Cmd".into(),
        });
    }
    let working_dir = run["WorkingDir"]
        .as_str()
        .filter(|d| !d.is_empty())
        .unwrap_or("/")
        .to_string();
    Ok(ImageRun {
        env,
        argv,
        working_dir,
    })
}

/// One sandbox: the root, the function folder bound at `/var/task`, the
/// environment, the working folder and the program to run.
#[derive(Clone, Debug)]
pub struct Sandbox {
    pub root: PathBuf,
    /// The host folder that is `/var/task` inside.
    pub task: PathBuf,
    pub env: Vec<(String, String)>,
    pub working_dir: String,
    pub argv: Vec<String>,
    /// Its own session (no terminal to push input into); off for a shell.
    pub new_session: bool,
}

/// Whether `root/rel` is the empty placeholder [`super::rootfs`] makes
/// for a name-service file the image lacks.
fn is_placeholder(root: &Path, rel: &str) -> bool {
    std::fs::symlink_metadata(root.join(rel)).is_ok_and(|m| m.is_file() && m.len() == 0)
}

impl Sandbox {
    /// The `bwrap` arguments (without the program itself).
    pub fn args(&self) -> Vec<std::ffi::OsString> {
        let mut a: Vec<std::ffi::OsString> = Vec::new();
        let mut push = |s: &dyn AsRef<std::ffi::OsStr>| a.push(s.as_ref().to_os_string());
        push(&"--ro-bind");
        push(&self.root);
        push(&"/");
        push(&"--ro-bind");
        push(&self.task);
        push(&"/var/task");
        for rel in HOST_FILES {
            let host = Path::new("/").join(rel);
            if is_placeholder(&self.root, rel) && host.is_file() {
                push(&"--ro-bind");
                push(&host);
                push(&host);
            }
        }
        for (flag, at) in [("--tmpfs", "/tmp"), ("--proc", "/proc"), ("--dev", "/dev")] {
            push(&flag);
            push(&at);
        }
        push(&"--unshare-pid");
        push(&"--unshare-ipc");
        push(&"--die-with-parent");
        if self.new_session {
            push(&"--new-session");
        }
        push(&"--chdir");
        push(&self.working_dir);
        push(&"--");
        for arg in &self.argv {
            push(arg);
        }
        a
    }

    /// The command that runs the sandbox with `runner`: only the
    /// sandbox's environment, stdin closed, stdout and stderr given.
    pub fn command(&self, runner: &Runner) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&runner.program);
        cmd.args(self.args())
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }
}

/// `vars` with later entries replacing earlier ones of the same name,
/// first places kept.
pub fn merge_env(vars: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in vars {
        match out.iter_mut().find(|(name, _)| *name == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_config_gives_env_argv_and_working_folder() {
        let c = br#"{"config": {"Env": ["PATH=/var/task:/bin", "A=b=c", "EMPTY"],
            "Entrypoint": ["/var/task/supervisor"], "Cmd": null, "WorkingDir": "/var/task"}}"#;
        let r = image_run(c).unwrap();
        assert_eq!(r.argv, ["/var/task/supervisor"]);
        assert_eq!(r.working_dir, "/var/task");
        assert_eq!(
            r.env,
            [
                ("PATH".to_string(), "/var/task:/bin".to_string()),
                ("A".into(), "b=c".into()),
                ("EMPTY".into(), String::new())
            ]
        );
        assert!(image_run(br#"{"config": {}}"#).is_err());
        assert!(image_run(b"nope").is_err());
    }

    #[test]
    fn no_runtime_names_bubblewrap_and_what_was_found() {
        let dir = tempfile::tempdir().unwrap();
        let e = find_runner(Some(dir.path().to_str().unwrap())).unwrap_err();
        assert!(e.to_string().contains("apt-get install bubblewrap"), "{e}");
        std::fs::write(dir.path().join("runc"), "").unwrap();
        let e = find_runner(Some(dir.path().to_str().unwrap())).unwrap_err();
        assert!(e.to_string().contains("found runc"), "{e}");
        std::fs::write(dir.path().join("bwrap"), "").unwrap();
        let r = find_runner(Some(dir.path().to_str().unwrap())).unwrap();
        assert_eq!(r.program, dir.path().join("bwrap"));
    }

    #[test]
    fn later_variables_win_in_their_first_place() {
        let v = merge_env([
            ("A".to_string(), "1".to_string()),
            ("B".into(), "2".into()),
            ("A".into(), "3".into()),
        ]);
        assert_eq!(v, [("A".into(), "3".into()), ("B".into(), "2".into())]);
    }
}
