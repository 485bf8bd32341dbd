//! Command-line types (clap) only; no behaviour.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// scar: SCAR function workflows on AWS Lambda and AWS Batch, as a
/// declarative reconciler.
#[derive(Debug, Parser)]
#[command(name = "scar", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// AWS profile (default: the standard AWS configuration chain).
    #[arg(long, global = true, env = "AWS_PROFILE", hide_env_values = true)]
    pub profile: Option<String>,
    /// AWS region (default: the standard AWS configuration chain).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// More log output on stderr (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests: types, ranges, references and the workflow graph.
    Validate(ValidateArgs),
    /// Print the JSON Schema of the manifest format.
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// A manifest file, or a folder of `*.yaml` files; repeat for several.
    /// Default: `scar.yaml` in the current folder.
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,
    /// Also check the account, read-only: each `iam.role` exists, each
    /// bucket is absent or reachable.
    #[arg(long)]
    pub online: bool,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// `json`: the JSON Schema; `markdown`: the manifest reference.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Json)]
    pub format: SchemaFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    Json,
    Markdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}
