//! The settings of one run, read once and in one place: `main_entry` builds
//! them from the command line's global flags and the environment
//! ([`Settings::from_process`]), and passes them down to the commands and
//! the pipeline. Nothing else in scar reads an environment variable (clap
//! reads those that stand for flags, `AWS_PROFILE`, `SCAR_TIMEOUT` and
//! `SCAR_CONNECT_TIMEOUT`, while parsing; the AWS SDK reads its own).

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::GlobalArgs;
use crate::cloud::aws::{Connection, Timeouts};
use crate::package::Cache;

/// Environment variables by name, as [`Settings::new`] reads them (the
/// process's own: [`process_environment`]; tests give a map).
pub type Environment = BTreeMap<OsString, OsString>;

/// The process's environment, read once.
pub fn process_environment() -> Environment {
    std::env::vars_os().collect()
}

/// What a run is configured with, beyond its subcommand's arguments.
#[derive(Clone, Debug)]
pub struct Settings {
    /// AWS profile, region and timeouts (`--profile`/`AWS_PROFILE`,
    /// `--region`, `--timeout`/`SCAR_TIMEOUT`,
    /// `--connect-timeout`/`SCAR_CONNECT_TIMEOUT`), for every AWS client.
    pub connection: Connection,
    /// The local package cache: `$SCAR_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/scar`, else `$HOME/.cache/scar`; `None` when
    /// `SCAR_CACHE_DIR` is set but empty (turned off), or none is set.
    pub cache: Option<Cache>,
    /// `SCAR_SUPERVISOR_LAYER`: the supervisor layer zip when
    /// `--supervisor-layer` is not given.
    pub supervisor_layer: Option<PathBuf>,
    /// `SCAR_SUPERVISOR`: the supervisor executable for function images
    /// when `--supervisor` is not given.
    pub supervisor: Option<PathBuf>,
    /// `PATH`, where `scar-supervisor` is looked for.
    pub search_path: Option<String>,
    /// The Docker credentials file: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
    /// `SCAR_LOG`: a tracing filter that replaces the `-v` levels.
    pub log_filter: Option<String>,
    /// `CONTAINERS_REGISTRIES_CONF`: the `containers-registries.conf(5)`
    /// file that says where images are fetched from; unset or empty, the
    /// system's (see [`crate::image::registries::locate`]).
    pub registries_conf: Option<PathBuf>,
    /// `-v` count.
    pub verbose: u8,
    /// Log lines on stderr are coloured: stderr is a terminal and
    /// `NO_COLOR` is unset.
    pub log_color: bool,
    /// `apply` draws a progress bar: stderr is a terminal and `TERM` is
    /// not `dumb` (otherwise it prints plain lines).
    pub progress_bar: bool,
    /// The progress bar and its lines are coloured: a progress bar is
    /// drawn and `NO_COLOR` is unset.
    pub progress_color: bool,
    /// Who takes workflow locks: `$USER@$HOSTNAME` (`LOGNAME`,
    /// `USERNAME`; the kernel's host name), and the CI run's URL where the
    /// CI gives one (GitHub Actions, GitLab `CI_JOB_URL`, Jenkins
    /// `BUILD_URL`, CircleCI `CIRCLE_BUILD_URL`).
    pub lock_owner: crate::lock::Owner,
    /// Running in CI (`CI` set and not `false`/`0`).
    pub in_ci: bool,
}

impl Settings {
    /// The settings of this process: its global flags, its environment and
    /// whether its stderr is a terminal.
    pub fn from_process(global: &GlobalArgs) -> Settings {
        let stderr_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let mut env = process_environment();
        if !env.contains_key(OsStr::new("HOSTNAME")) {
            // Shells set HOSTNAME without exporting it: ask the kernel.
            if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
                env.insert("HOSTNAME".into(), h.trim().into());
            }
        }
        Settings::new(global, &env, stderr_terminal)
    }

    /// The settings from the global flags, an environment and whether
    /// stderr is a terminal.
    pub fn new(global: &GlobalArgs, env: &Environment, stderr_terminal: bool) -> Settings {
        let var = |k: &str| env.get(OsStr::new(k));
        let set = |k: &str| var(k).filter(|v| !v.is_empty());
        let cache = match var("SCAR_CACHE_DIR") {
            Some(v) => (!v.is_empty()).then(|| Cache::new(v)),
            None => match (set("XDG_CACHE_HOME"), set("HOME")) {
                (Some(x), _) => Some(Cache::new(PathBuf::from(x).join("scar"))),
                (None, Some(h)) => Some(Cache::new(PathBuf::from(h).join(".cache").join("scar"))),
                (None, None) => None,
            },
        };
        let no_color = var("NO_COLOR").is_some();
        let dumb = var("TERM").is_some_and(|t| t == "dumb");
        let progress_bar = stderr_terminal && !dumb;
        let text = |k: &str| set(k).and_then(|v| v.to_str()).map(str::to_string);
        let user = text("USER")
            .or_else(|| text("LOGNAME"))
            .or_else(|| text("USERNAME"))
            .unwrap_or_else(|| "unknown".into());
        let host = text("HOSTNAME").unwrap_or_else(|| "unknown-host".into());
        let github = match (
            text("GITHUB_SERVER_URL"),
            text("GITHUB_REPOSITORY"),
            text("GITHUB_RUN_ID"),
        ) {
            (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
            _ => None,
        };
        let ci_run = github
            .or_else(|| text("CI_JOB_URL"))
            .or_else(|| text("BUILD_URL"))
            .or_else(|| text("CIRCLE_BUILD_URL"));
        let in_ci = text("CI").is_some_and(|v| v != "false" && v != "0");
        Settings {
            lock_owner: crate::lock::Owner {
                who: format!("{user}@{host}"),
                ci_run,
            },
            in_ci,
            connection: Connection {
                profile: global.profile.clone(),
                region: global.region.clone(),
                timeouts: Timeouts {
                    connect: Duration::from_secs(global.connect_timeout),
                    total: Duration::from_secs(global.timeout),
                },
            },
            cache,
            supervisor_layer: var("SCAR_SUPERVISOR_LAYER").map(PathBuf::from),
            supervisor: set("SCAR_SUPERVISOR").map(PathBuf::from),
            search_path: var("PATH").and_then(|v| v.to_str()).map(str::to_string),
            docker_config: crate::image::auth::docker_config_path(
                set("DOCKER_CONFIG").map(Path::new),
                set("HOME").map(Path::new),
            ),
            // Not Unicode: no filter can be parsed from it (as tracing's
            // own `EnvFilter::try_from_env`), so the `-v` levels apply.
            log_filter: var("SCAR_LOG").and_then(|v| v.to_str()).map(str::to_string),
            registries_conf: set("CONTAINERS_REGISTRIES_CONF").map(PathBuf::from),
            verbose: global.verbose,
            log_color: stderr_terminal && !no_color,
            progress_bar,
            progress_color: progress_bar && !no_color,
        }
    }
}

impl Settings {
    /// These settings with the supervisor a command line names
    /// (`--supervisor`), if it names one.
    pub fn with_supervisor(&self, given: Option<&Path>) -> Settings {
        let mut s = self.clone();
        if let Some(p) = given {
            s.supervisor = Some(p.to_path_buf());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global() -> GlobalArgs {
        GlobalArgs {
            profile: Some("dev".into()),
            region: Some("eu-west-1".into()),
            timeout: 30,
            connect_timeout: 3,
            verbose: 1,
        }
    }

    fn env(vars: &[(&str, &str)]) -> Environment {
        vars.iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    fn cache_dir(s: &Settings) -> Option<&Path> {
        s.cache.as_ref().map(Cache::dir)
    }

    #[test]
    fn settings_are_built_from_the_given_environment_and_flags() {
        let s = Settings::new(
            &global(),
            &env(&[
                ("SCAR_CACHE_DIR", "/c/scar"),
                ("XDG_CACHE_HOME", "/xdg"),
                ("HOME", "/home/u"),
                ("SCAR_SUPERVISOR_LAYER", "/l/layer.zip"),
                ("SCAR_LOG", "scar=trace"),
                ("CONTAINERS_REGISTRIES_CONF", "/r/registries.conf"),
            ]),
            true,
        );
        assert_eq!(cache_dir(&s), Some(Path::new("/c/scar")));
        assert_eq!(s.supervisor_layer, Some(PathBuf::from("/l/layer.zip")));
        assert_eq!(s.log_filter.as_deref(), Some("scar=trace"));
        assert_eq!(s.registries_conf, Some(PathBuf::from("/r/registries.conf")));
        assert_eq!(s.verbose, 1);
        assert_eq!(s.connection.profile.as_deref(), Some("dev"));
        assert_eq!(s.connection.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.connection.timeouts.total, Duration::from_secs(30));
        assert_eq!(s.connection.timeouts.connect, Duration::from_secs(3));
        assert!(s.log_color && s.progress_bar && s.progress_color);
    }

    #[test]
    fn the_cache_falls_back_from_scar_cache_dir_to_xdg_to_home_and_can_be_turned_off() {
        let at = |vars: &[(&str, &str)]| {
            cache_dir(&Settings::new(&global(), &env(vars), false)).map(Path::to_path_buf)
        };
        assert_eq!(
            at(&[("XDG_CACHE_HOME", "/xdg"), ("HOME", "/home/u")]),
            Some(PathBuf::from("/xdg/scar"))
        );
        assert_eq!(
            at(&[("XDG_CACHE_HOME", ""), ("HOME", "/home/u")]),
            Some(PathBuf::from("/home/u/.cache/scar"))
        );
        // An empty SCAR_CACHE_DIR turns the cache off, whatever else is set.
        assert_eq!(
            at(&[("SCAR_CACHE_DIR", ""), ("XDG_CACHE_HOME", "/xdg")]),
            None
        );
        assert_eq!(at(&[]), None);
    }

    #[test]
    fn no_color_dumb_terminals_and_pipes_turn_colour_and_the_bar_off() {
        let s = Settings::new(&global(), &env(&[("NO_COLOR", "")]), true);
        assert!(!s.log_color && s.progress_bar && !s.progress_color);
        let s = Settings::new(&global(), &env(&[("TERM", "dumb")]), true);
        assert!(s.log_color && !s.progress_bar && !s.progress_color);
        let s = Settings::new(&global(), &env(&[("TERM", "xterm")]), false);
        assert!(!s.log_color && !s.progress_bar && !s.progress_color);
        // Nothing set: no layer, no log filter (the -v levels apply).
        assert_eq!(s.supervisor_layer, None);
        assert_eq!(s.log_filter, None);
        assert_eq!(s.registries_conf, None);
        // Set but empty is unset, as for the containers tools.
        let s = Settings::new(
            &global(),
            &env(&[("CONTAINERS_REGISTRIES_CONF", "")]),
            false,
        );
        assert_eq!(s.registries_conf, None);
    }

    #[test]
    fn no_module_but_this_one_reads_the_environment() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("settings.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or_default();
                    if ["env::var", "var_os(", "try_from_env(", "from_default_env("]
                        .iter()
                        .any(|p| code.contains(p))
                    {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "read the environment in src/settings.rs and pass it down:\n{}",
            found.join("\n")
        );
    }
}
