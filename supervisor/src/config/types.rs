//! Typed view of the function config. Deserialisation is lenient where SCAR's
//! files are (numbers or booleans as environment values, missing blocks) and
//! strict where a wrong value would silently change behaviour
//! (`execution_mode`, `file_stage_in`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};

/// The function config, as read from `function_config.yaml`, `FDL` or `FUNCTION_CONFIG`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FunctionConfig {
    /// The function name (also the default Batch job queue and job definition name).
    pub name: Option<String>,
    /// The script run on every invocation, usually a basename beside the config file.
    pub init_script: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub container: ContainerConfig,
    #[serde(deserialize_with = "null_default")]
    pub input: Vec<StorageRef>,
    #[serde(deserialize_with = "null_default")]
    pub output: Vec<OutputSpec>,
    #[serde(deserialize_with = "null_default")]
    pub execution_mode: ExecutionMode,
    pub log_level: Option<String>,
    /// `true` skips the input download (the script fetches the data itself).
    #[serde(deserialize_with = "bool_or_null")]
    pub file_stage_in: bool,
    #[serde(deserialize_with = "null_default")]
    pub batch: BatchConfig,
    #[serde(deserialize_with = "null_default")]
    pub storage_providers: StorageProviders,
}

/// `container:` block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContainerConfig {
    pub image: Option<String>,
    /// Seconds reserved after the script for uploads (default 10).
    pub timeout_threshold: Option<u64>,
    #[serde(deserialize_with = "null_default")]
    pub environment: EnvBlock,
}

/// `environment: {Variables: {...}}`, as in the Lambda API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EnvBlock {
    #[serde(rename = "Variables", deserialize_with = "scalar_map")]
    pub variables: BTreeMap<String, String>,
}

/// How the function runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum ExecutionMode {
    #[default]
    #[serde(rename = "lambda")]
    Lambda,
    #[serde(rename = "lambda-batch")]
    LambdaBatch,
    #[serde(rename = "batch")]
    Batch,
}

/// `batch:` block (only what the supervisor needs to submit a job).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BatchConfig {
    /// Job queue name; defaults to the function name (SCAR's convention).
    pub job_queue: Option<String>,
    /// Job definition name; defaults to the function name.
    pub job_definition: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub multi_node_parallel: MultiNode,
}

/// `batch.multi_node_parallel`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MultiNode {
    #[serde(deserialize_with = "bool_or_null")]
    pub enabled: bool,
}

/// An `input[]` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct StorageRef {
    pub storage_provider: String,
    pub path: String,
}

/// An `output[]` entry with its optional filters.
#[derive(Debug, Clone, Deserialize)]
pub struct OutputSpec {
    pub storage_provider: String,
    pub path: String,
    #[serde(default, deserialize_with = "string_list")]
    pub prefix: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub suffix: Vec<String>,
}

/// `storage_providers:` (only the S3-compatible kinds are used here).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StorageProviders {
    #[serde(deserialize_with = "null_default")]
    pub s3: BTreeMap<String, StorageProvider>,
    #[serde(deserialize_with = "null_default")]
    pub minio: BTreeMap<String, StorageProvider>,
}

/// Credentials and endpoint of one S3-compatible provider.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StorageProvider {
    pub access_key: Option<String>,
    pub secret_key: Option<Secret>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

/// A value that never shows in logs or debug output.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// `null` (an empty YAML block) means the default.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn bool_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

/// A scalar written as a string, number or boolean (YAML `ITERATIONS: 200`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

fn scalar_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let map = Option::<BTreeMap<String, Option<Scalar>>>::deserialize(d)?.unwrap_or_default();
    Ok(map
        .into_iter()
        .map(|(k, v)| (k, v.map(Scalar::into_string).unwrap_or_default()))
        .collect())
}

/// A list of strings, or a single string, or null.
fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

impl FunctionConfig {
    /// The seconds reserved after the script; env `TIMEOUT_THRESHOLD` wins.
    pub fn timeout_threshold(&self, env_value: Option<&str>) -> u64 {
        env_value
            .and_then(|v| v.trim().parse().ok())
            .or(self.container.timeout_threshold)
            .unwrap_or(10)
    }
}
