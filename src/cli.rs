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
    /// The most one AWS call may take, in seconds, the SDK's retries
    /// included; each attempt waits at most half of it for an answer.
    #[arg(
        long,
        global = true,
        env = "SCAR_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub timeout: u64,
    /// The most opening a connection to AWS may take, in seconds.
    #[arg(
        long,
        global = true,
        env = "SCAR_CONNECT_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u64).range(1..=600)
    )]
    pub connect_timeout: u64,
    /// More log output on stderr (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests: types, ranges, references and the workflow graph.
    Validate(ValidateArgs),
    /// Show what apply would change in the account to match the manifests.
    Plan(PlanArgs),
    /// Make the account match the manifests.
    Apply(ApplyArgs),
    /// Read-only, for scheduled jobs: what changed in the account since
    /// scar applied it (drift), what the manifests changed (pending), and
    /// what carries the workflow's tags undeclared (unmanaged). Exit 0 in
    /// sync, 2 when anything differs, 1 on errors.
    Drift(DriftArgs),
    /// Delete everything the workflow owns (buckets holding objects are kept).
    Destroy(DestroyArgs),
    /// Take existing resources into the workflow, in place: functions
    /// deployed by SCAR 4.x, and resources made by hand, that the
    /// manifests declare. Shows what it takes and what plan would then
    /// change; asks first.
    Import(ImportArgs),
    /// Remove a workflow's lock left by a run that died, given its id.
    ForceUnlock(ForceUnlockArgs),
    /// Retag in place everything workflow OLD owns as workflow NEW's (after
    /// renaming the workflow in the manifests, or moving them).
    RenameWorkflow(RenameWorkflowArgs),
    /// Print the JSON Schema of the manifest format (or of plans).
    Schema(SchemaArgs),
    /// Run a function on this machine, in its image (`scar local invoke`).
    Local(LocalArgs),
    /// Call a deployed function through its API Gateway endpoint (or
    /// directly through Lambda with `--direct`) and print its answer.
    Invoke(InvokeArgs),
    /// Run a deployed function with a script or command arguments, or once
    /// per object of its S3 input (`--all-inputs`).
    Run(RunArgs),
    /// List the workflow's functions (or every scar workflow's, `--all`),
    /// with what they run and whether they match the manifests.
    Ls(LsArgs),
    /// Show a function's CloudWatch logs (or a Batch job's, `--job`).
    Logs(LogsArgs),
    /// Upload files and folders to a function's input (or an `s3://` path).
    Put(PutArgs),
    /// Download a function's output (or an `s3://` path) into a folder.
    Get(GetArgs),
}

/// Where a command's answer goes: printed as text or JSON, or (the body
/// of an invocation) saved to a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
    File(PathBuf),
}

impl std::str::FromStr for Output {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "text" => Output::Text,
            "json" => Output::Json,
            path => Output::File(PathBuf::from(path)),
        })
    }
}

/// How the function's request is made: the body and the query.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The request body, as text (sent base64-encoded, as `scar invoke -db`
    /// sends a file).
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["data_file", "json"])]
    pub data: Option<String>,
    /// The request body from a file, or `-` for stdin (sent base64-encoded:
    /// the script gets the file's bytes at `$INPUT_FILE_PATH`).
    #[arg(long, value_name = "FILE", conflicts_with = "json")]
    pub data_file: Option<PathBuf>,
    /// A JSON body, sent as JSON (SCAR's `-jd`): the supervisor reads it as
    /// an event (an S3 event in it stages that object).
    #[arg(long, value_name = "JSON")]
    pub json: Option<String>,
    /// A query parameter `NAME=VALUE` (the script sees `CONT_VAR_NAME`);
    /// repeat for several.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
}

/// How a Lambda answer is shown.
#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// Do not wait for the function: queue the invocation and return.
    #[arg(long = "async")]
    pub asynchronous: bool,
    /// Also print the end of the invocation's log (stderr).
    #[arg(long)]
    pub log_tail: bool,
    /// `text` (the body on stdout), `json`, or a FILE to save the body in.
    #[arg(
        short = 'o',
        long,
        value_name = "text|json|FILE",
        default_value = "text"
    )]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The function's name (`lambda.name`).
    pub function: String,
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub request: RequestArgs,
    #[command(flatten)]
    pub answer: AnswerArgs,
    /// Invoke through Lambda itself, with the event API Gateway would send.
    #[arg(long)]
    pub direct: bool,
    /// The endpoint to call instead of the function's API Gateway stage
    /// (a custom domain, a proxy).
    #[arg(long, value_name = "URL", conflicts_with = "direct")]
    pub url: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The function's name (`lambda.name`).
    pub function: String,
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Run this script instead of the function's `init_script`.
    #[arg(long, value_name = "FILE", conflicts_with = "all_inputs")]
    pub script: Option<PathBuf>,
    /// Invoke once per object under the function's S3 input, each with the
    /// S3 event of that object.
    #[arg(long)]
    pub all_inputs: bool,
    /// Invocations under way at once (`--all-inputs`).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
    #[command(flatten)]
    pub answer: AnswerArgs,
    /// The command and its arguments, run in the function's image instead
    /// of its script (after `--`).
    #[arg(last = true, value_name = "ARGS", conflicts_with_all = ["all_inputs", "script"])]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub layer: LayerArgs,
    /// Every scar workflow of the account and region (no manifests needed).
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Treat the manifests' warnings as errors.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The function's name (`lambda.name`); not needed with `--job`.
    #[arg(required_unless_present = "job")]
    pub function: Option<String>,
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Only events newer than this (`30m`, `1h`, `2d`).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub since: Option<std::time::Duration>,
    /// Keep printing new events as they arrive (Ctrl-C ends).
    #[arg(long)]
    pub follow: bool,
    /// Only the invocation with this request id (START to REPORT).
    #[arg(long, value_name = "ID")]
    pub request_id: Option<String>,
    /// A CloudWatch Logs filter pattern (`ERROR`, `"exact phrase"`, ...).
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// The logs of this Batch job (as the function's answer names it).
    #[arg(long, value_name = "ID", conflicts_with = "request_id")]
    pub job: Option<String>,
    /// Output format: text, or one JSON object per line.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// What put and get share.
#[derive(Debug, Args)]
pub struct TransferArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// List what would move, and move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Files moving at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
    /// Output format of the summary.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PutArgs {
    /// Files and folders, then where to: a function's name (its first S3
    /// input) or `s3://BUCKET/FOLDER`.
    #[arg(required = true, num_args = 2.., value_name = "PATH... TARGET")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// A function's name (its first S3 output) or `s3://BUCKET/FOLDER`.
    pub source: String,
    /// The folder to download into (default: the current one).
    pub dest: Option<PathBuf>,
    /// Replace local files of the same name (default: refuse).
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub struct LocalArgs {
    #[command(subcommand)]
    pub command: LocalCommand,
}

#[derive(Debug, Subcommand)]
pub enum LocalCommand {
    /// Invoke a function once, in the image `plan` computes for it, with a
    /// bubblewrap sandbox, and print its answer.
    Invoke(LocalInvokeArgs),
}

#[derive(Debug, Args)]
pub struct LocalInvokeArgs {
    /// The function's name (`lambda.name`).
    pub function: String,
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub layer: LayerArgs,
    /// The event: a JSON file, or `-` for stdin (default: `{}`).
    #[arg(long, value_name = "FILE", conflicts_with = "s3")]
    pub event: Option<PathBuf>,
    /// The event S3 sends when this object is put: `s3://BUCKET/KEY`.
    #[arg(long, value_name = "URI")]
    pub s3: Option<String>,
    /// Open `/bin/sh` in the function's root instead of invoking it.
    #[arg(long)]
    pub shell: bool,
    /// A variable for the function's environment, over those scar gives
    /// it (e.g. `AWS_ENDPOINT_URL`); repeat for several.
    #[arg(short = 'e', long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LayerArgs {
    /// The supervisor layer zip (default: `SCAR_SUPERVISOR_LAYER`, else
    /// `supervisor-layer.zip` beside the scar binary or in `target/`).
    #[arg(long, value_name = "ZIP")]
    pub supervisor_layer: Option<PathBuf>,
    /// The supervisor executable put into function images; it must be
    /// statically linked (default: `SCAR_SUPERVISOR`, else
    /// `scar-supervisor` beside the scar binary, else on `PATH`, else the
    /// layer zip's `bootstrap`).
    #[arg(long, value_name = "PATH")]
    pub supervisor: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub layer: LayerArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = PlanFormat::Text)]
    pub output: PlanFormat,
    /// Exit 2 when there are changes, 0 when there are none, 1 on errors.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also write the plan as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Treat the manifests' warnings as errors.
    #[arg(long)]
    pub strict: bool,
    /// Plan only this resource and what it needs (repeat for several):
    /// for exceptional cases; the rest of the workflow is not planned.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub layer: LayerArgs,
    /// Do not ask for confirmation (pipelines).
    #[arg(long)]
    pub auto_approve: bool,
    /// Changes carried out at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    /// Apply only if the account still matches this saved plan
    /// (`scar plan --out FILE`); passing it counts as approval.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Treat the manifests' warnings as errors.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Plan only this resource and what it needs (repeat for several):
    /// for exceptional cases; the rest of the workflow is not planned.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
}

/// Where the workflow's lock is, and how long to wait for it.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// The S3 bucket that holds workflow locks (over the manifest's
    /// `lock.bucket`); without either, a lock file in this folder.
    #[arg(long, value_name = "BUCKET")]
    pub lock_bucket: Option<String>,
    /// How long to wait while another run holds the lock (`30s`, `5m`).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = humantime::parse_duration)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub layer: LayerArgs,
    /// Output format (json: schemas/drift.schema.json).
    #[arg(long, short = 'o', value_enum, default_value_t = PlanFormat::Text)]
    pub output: PlanFormat,
    /// Also report what looks like SCAR's in the account (SCAR 4.x's
    /// `createdby: scar` tag, or a `scar-` name) and belongs to no workflow.
    #[arg(long)]
    pub all: bool,
    /// Treat the manifests' warnings as errors.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Do not ask for confirmation (pipelines).
    #[arg(long)]
    pub auto_approve: bool,
    /// Changes carried out at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    /// Treat the manifests' warnings as errors.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Plan only this resource and what it needs (repeat for several):
    /// for exceptional cases; the rest of the workflow is not planned.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub layer: LayerArgs,
    /// Do not ask for confirmation (pipelines).
    #[arg(long)]
    pub auto_approve: bool,
    /// Treat the manifests' warnings as errors.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct RenameWorkflowArgs {
    /// The workflow's name in the account now.
    pub old: String,
    /// Its new name.
    pub new: String,
    /// Do not ask for confirmation (pipelines).
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The lock's id, as the error that names its holder shows it.
    pub id: String,
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// The S3 bucket that holds workflow locks (over the manifest's
    /// `lock.bucket`); without either, the lock file in this folder.
    #[arg(long, value_name = "BUCKET")]
    pub lock_bucket: Option<String>,
}

#[derive(Clone, Debug, Args)]
pub struct ManifestArgs {
    /// A manifest file, or a folder of `*.yaml` files; repeat for several.
    /// Default: `scar.yaml` in the current folder.
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Also read the files manifests name (`init_script`, ...) from this
    /// folder; repeat for several. Default: only from each manifest's own
    /// folder. The manifest itself can never widen this.
    #[arg(long = "allow-files-in", value_name = "DIR")]
    pub allow_files_in: Vec<PathBuf>,
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

/// How a plan is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// terraform-like text.
    Text,
    /// The JSON plan (schemas/plan.schema.json).
    Json,
    /// Markdown for pull-request comments.
    Markdown,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// `json`: the JSON Schema; `markdown`: the manifest reference.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Json)]
    pub format: SchemaFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    /// The manifest's JSON Schema.
    Json,
    /// The manifest reference (Markdown).
    Markdown,
    /// The JSON Schema of `plan --output json`.
    Plan,
    /// The JSON Schema of `drift --output json`.
    Drift,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}
