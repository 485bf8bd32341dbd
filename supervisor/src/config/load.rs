//! Finds and parses the function config: the file
//! (`$SCAR_FUNCTION_CONFIG_PATH`, default `/var/task/function_config.yaml`),
//! else env `FDL` (base64 JSON), else env `FUNCTION_CONFIG` (base64 YAML).
//! A source that exists but cannot be read or parsed is an error, never a
//! silent fall-through to the next one.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::types::{ExecutionMode, FunctionConfig};

/// The default config file inside a Lambda function package.
pub const DEFAULT_CONFIG_PATH: &str = "/var/task/function_config.yaml";

/// Where the config came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    FdlEnv,
    FunctionConfigEnv,
    /// No source at all: an empty config (direct invocations with a script still work).
    Empty,
}

impl std::fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigSource::File(p) => write!(f, "file {}", p.display()),
            ConfigSource::FdlEnv => f.write_str("env FDL"),
            ConfigSource::FunctionConfigEnv => f.write_str("env FUNCTION_CONFIG"),
            ConfigSource::Empty => f.write_str("no config (none found)"),
        }
    }
}

/// A parsed config plus what is needed to resolve relative paths in it.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: FunctionConfig,
    pub source: ConfigSource,
    /// The folder `init_script` is relative to.
    pub base_dir: PathBuf,
}

/// Why the config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the function config {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("env {var} is not valid base64")]
    Base64 {
        var: &'static str,
        #[source]
        source: base64::DecodeError,
    },
    #[error("the function config ({source_name}) is not valid YAML/JSON of the expected shape")]
    Parse {
        source_name: String,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("env {var}={value:?} is not one of lambda, lambda-batch, batch")]
    BadOverride { var: &'static str, value: String },
}

/// Loads the config from the first source present, reading env through `env`.
pub fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<LoadedConfig, ConfigError> {
    let explicit = env("SCAR_FUNCTION_CONFIG_PATH").filter(|p| !p.is_empty());
    let path = PathBuf::from(explicit.as_deref().unwrap_or(DEFAULT_CONFIG_PATH));
    let task_root = env("LAMBDA_TASK_ROOT")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/task"));

    let mut loaded = if explicit.is_some() || path.exists() {
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let config = parse(&text, &path.display().to_string())?;
        // Absolute, because the script runs in another working folder.
        let base_dir = std::path::absolute(&path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("/"));
        LoadedConfig {
            config,
            source: ConfigSource::File(path),
            base_dir,
        }
    } else if let Some(fdl) = env("FDL").filter(|v| !v.trim().is_empty()) {
        LoadedConfig {
            config: parse(&decode("FDL", &fdl)?, "env FDL")?,
            source: ConfigSource::FdlEnv,
            base_dir: task_root,
        }
    } else if let Some(fc) = env("FUNCTION_CONFIG").filter(|v| !v.trim().is_empty()) {
        LoadedConfig {
            config: parse(&decode("FUNCTION_CONFIG", &fc)?, "env FUNCTION_CONFIG")?,
            source: ConfigSource::FunctionConfigEnv,
            base_dir: task_root,
        }
    } else {
        LoadedConfig {
            config: FunctionConfig::default(),
            source: ConfigSource::Empty,
            base_dir: task_root,
        }
    };
    apply_env_overrides(&mut loaded.config, env)?;
    Ok(loaded)
}

fn decode(var: &'static str, value: &str) -> Result<String, ConfigError> {
    let cleaned: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .map_err(|source| ConfigError::Base64 { var, source })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Parses YAML (JSON is YAML too, which is how SCAR reads `FDL`).
pub fn parse(text: &str, source_name: &str) -> Result<FunctionConfig, ConfigError> {
    if text.trim().is_empty() {
        return Ok(FunctionConfig::default());
    }
    serde_yaml_ng::from_str(text).map_err(|source| ConfigError::Parse {
        source_name: source_name.to_string(),
        source,
    })
}

/// `LOG_LEVEL` and `EXECUTION_MODE` override the file, as in faas-supervisor;
/// `BATCH_JOB_QUEUE` and `BATCH_JOB_DEFINITION` name where Batch jobs go (scar
/// sets them in the function's environment: the job definition is pinned by
/// ARN and revision, which the image's config file cannot hold, since the job
/// definition names the image).
fn apply_env_overrides(
    config: &mut FunctionConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    if let Some(level) = env("LOG_LEVEL").filter(|v| !v.is_empty()) {
        config.log_level = Some(level);
    }
    if let Some(queue) = env("BATCH_JOB_QUEUE").filter(|v| !v.is_empty()) {
        config.batch.job_queue = Some(queue);
    }
    if let Some(definition) = env("BATCH_JOB_DEFINITION").filter(|v| !v.is_empty()) {
        config.batch.job_definition = Some(definition);
    }
    if let Some(mode) = env("EXECUTION_MODE").filter(|v| !v.is_empty()) {
        config.execution_mode = match mode.to_ascii_lowercase().as_str() {
            "lambda" => ExecutionMode::Lambda,
            "lambda-batch" => ExecutionMode::LambdaBatch,
            "batch" => ExecutionMode::Batch,
            _ => {
                return Err(ConfigError::BadOverride {
                    var: "EXECUTION_MODE",
                    value: mode,
                })
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn scar_generated_config_parses() {
        let text = "asynchronous: false\ncontainer:\n  environment:\n    Variables: {ITERATIONS: 200, DEBUG: true}\n  image: x\n  timeout_threshold: 10\nexecution_mode: lambda-batch\ninit_script: test.sh\nlog_level: DEBUG\nname: f\noutput:\n- storage_provider: s3\n  path: b/out\n  suffix: [.png]\nstorage_providers: {}\ntags: {createdby: scar}\n";
        let c = parse(text, "t").unwrap();
        assert_eq!(c.execution_mode, ExecutionMode::LambdaBatch);
        assert_eq!(c.container.environment.variables["ITERATIONS"], "200");
        assert_eq!(c.container.environment.variables["DEBUG"], "true");
        assert_eq!(c.output[0].suffix, vec![".png"]);
        assert!(c.output[0].prefix.is_empty());
        assert_eq!(c.init_script.as_deref(), Some("test.sh"));
    }

    #[test]
    fn fdl_then_function_config_order() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.yaml");
        // No file at the default path on a build machine: FDL wins over FUNCTION_CONFIG.
        let env = env_of(&[
            ("FDL", b64("{\"name\": \"from-fdl\"}")),
            ("FUNCTION_CONFIG", b64("name: from-fc\n")),
            ("LAMBDA_TASK_ROOT", dir.path().display().to_string()),
        ]);
        if !Path::new(DEFAULT_CONFIG_PATH).exists() {
            let l = load(&env).unwrap();
            assert_eq!(l.config.name.as_deref(), Some("from-fdl"));
            assert_eq!(l.source, ConfigSource::FdlEnv);
        }
        // An explicit path that is missing is an error, not a fall-through.
        let env = env_of(&[
            ("SCAR_FUNCTION_CONFIG_PATH", missing.display().to_string()),
            ("FDL", b64("{\"name\": \"from-fdl\"}")),
        ]);
        let err = load(&env).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
    }

    #[test]
    fn empty_blocks_are_defaults() {
        let c = parse(
            "storage_providers:\ncontainer:\n  environment:\ninput:\noutput:\nbatch:\nexecution_mode:\n",
            "t",
        )
        .unwrap();
        assert!(c.output.is_empty() && c.storage_providers.s3.is_empty());
        assert_eq!(c.execution_mode, ExecutionMode::Lambda);
    }

    #[test]
    fn the_environment_names_the_batch_queue_and_job_definition() {
        let mut c = parse("name: f\nbatch:\n  job_queue: q\n", "t").unwrap();
        let arn = "arn:aws:batch:us-east-1:123456789012:job-definition/f:3".to_string();
        let env = env_of(&[("BATCH_JOB_DEFINITION", arn.clone())]);
        apply_env_overrides(&mut c, &env).unwrap();
        assert_eq!(c.batch.job_definition.as_deref(), Some(arn.as_str()));
        assert_eq!(c.batch.job_queue.as_deref(), Some("q"), "unset: the file's");
        let env = env_of(&[("BATCH_JOB_QUEUE", "other".into())]);
        apply_env_overrides(&mut c, &env).unwrap();
        assert_eq!(c.batch.job_queue.as_deref(), Some("other"));
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse("execution_mode: lambda-bach\n", "t").is_err());
        assert!(parse("file_stage_in: 'yes'\n", "t").is_err());
        assert!(parse(": : :\n  - [\n", "t").is_err());
        let env = env_of(&[("FUNCTION_CONFIG", "!!notbase64!!".into())]);
        if !Path::new(DEFAULT_CONFIG_PATH).exists() {
            assert!(matches!(load(&env), Err(ConfigError::Base64 { .. })));
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = parse(
            "storage_providers:\n  s3:\n    other:\n      access_key: AKIAX\n      secret_key: hunter2\n",
            "t",
        )
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
    }
}
