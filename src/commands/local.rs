//! `scar local invoke FUNCTION`: runs a function of the manifests on this
//! machine, in the image `scar plan` computes for it, with the supervisor
//! serving one event through a Runtime API scar serves on 127.0.0.1, and
//! prints the function's answer on stdout (logs go to stderr). `--shell`
//! opens `/bin/sh` in the same root instead.

use std::io::{IsTerminal, Read};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;

use super::{connect, ExitStatus};
use crate::cli::{LocalArgs, LocalCommand, LocalInvokeArgs};
use crate::cloud::Cloud;
use crate::local::{event, rootfs, run, runtime_api};
use crate::manifest::{FunctionDef, Manifest};
use crate::pipeline::{self, images::Builder, ImageSources};
use crate::settings::Settings;

/// How long the runtime may take to ask for its event (Lambda's init
/// phase limit).
const INIT_LIMIT: Duration = Duration::from_secs(10);
/// How long after the deadline a runtime may take to report.
const GRACE: Duration = Duration::from_secs(2);

pub async fn run(settings: &Settings, args: &LocalArgs) -> anyhow::Result<ExitStatus> {
    match &args.command {
        LocalCommand::Invoke(a) => invoke(settings, a).await,
    }
}

/// The function named `name`, or an error listing the manifests' ones.
fn function<'m>(m: &'m Manifest, name: &str) -> anyhow::Result<&'m FunctionDef> {
    if let Some(f) = m.functions.iter().find(|f| f.name() == name) {
        return Ok(f);
    }
    let mut names: Vec<&str> = m.functions.iter().map(FunctionDef::name).collect();
    names.sort_unstable();
    anyhow::bail!(
        "the manifests have no function `{name}`\nhint: the functions are: {}",
        if names.is_empty() {
            "(none)".to_string()
        } else {
            names.join(", ")
        }
    )
}

/// `NAME=VALUE` of `--env`.
fn parse_env(given: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    given
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => anyhow::bail!("`--env {kv}` is not NAME=VALUE\nhint: e.g. --env AWS_ENDPOINT_URL=http://s3.local:9000"),
        })
        .collect()
}

/// The event bytes the arguments give (`{}` when none).
fn read_event(args: &LocalInvokeArgs, region: &str) -> anyhow::Result<Vec<u8>> {
    if let Some(uri) = &args.s3 {
        let (bucket, key) = event::parse_s3_uri(uri)?;
        let e = event::s3_put_event(&bucket, &key, region, SystemTime::now());
        return Ok(e.to_string().into_bytes());
    }
    match args.event.as_deref() {
        None => Ok(b"{}".to_vec()),
        Some(p) if p == Path::new("-") => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read the event from stdin")?;
            Ok(event::json_event(bytes, "stdin")?)
        }
        Some(p) => {
            let bytes = std::fs::read(p)
                .with_context(|| format!("cannot read the event file `{}`", p.display()))?;
            Ok(event::json_event(bytes, &format!("`{}`", p.display()))?)
        }
    }
}

/// The AWS variables the function gets from scar's own configuration:
/// region, credentials, and the endpoint when one is configured.
async fn aws_env(settings: &Settings, region: &str) -> anyhow::Result<Vec<(String, String)>> {
    use aws_sdk_sts::config::ProvideCredentials;
    let conf = crate::cloud::aws::sdk_config(&settings.connection).await;
    let mut env = vec![
        ("AWS_REGION".to_string(), region.to_string()),
        ("AWS_DEFAULT_REGION".to_string(), region.to_string()),
    ];
    if let Some(p) = conf.credentials_provider() {
        let c = p
            .provide_credentials()
            .await
            .context("cannot get the AWS credentials to give the function")?;
        env.push(("AWS_ACCESS_KEY_ID".into(), c.access_key_id().to_string()));
        env.push((
            "AWS_SECRET_ACCESS_KEY".into(),
            c.secret_access_key().to_string(),
        ));
        if let Some(t) = c.session_token() {
            env.push(("AWS_SESSION_TOKEN".into(), t.to_string()));
        }
    }
    if let Some(url) = conf.endpoint_url() {
        env.push(("AWS_ENDPOINT_URL".into(), url.to_string()));
    }
    Ok(env)
}

/// The Lambda architecture this machine runs natively.
fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    }
}

async fn invoke(settings: &Settings, args: &LocalInvokeArgs) -> anyhow::Result<ExitStatus> {
    let settings = &settings.with_supervisor(args.layer.supervisor.as_deref());
    let paths = super::manifest_paths(&args.manifests.files)?;
    let (m, _warnings) = pipeline::load_manifest(&paths, &args.manifests, false)?;
    let f = function(&m, &args.function)?;
    let name = f.name();
    let lambda = &f.spec.lambda;
    if lambda.container.image.is_none() {
        anyhow::bail!(
            "function `{name}` runs on the supervisor layer, not an image; `scar local invoke` runs functions that have a `container.image`\nhint: give it `container.image` (any image with /bin/sh, e.g. `busybox` or `debian:stable-slim`) to run it locally"
        );
    }
    if !crate::resources::builds_image(f) {
        anyhow::bail!(
            "function `{name}` uses its ECR image as is (`create_image: false`), without scar's supervisor layer; `scar local invoke` runs the images scar builds\nhint: set `container.create_image: true` to have scar build on it"
        );
    }
    let arch = lambda
        .architectures
        .first()
        .and_then(|a| serde_json::to_value(a).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "x86_64".into());
    if arch != host_architecture() {
        anyhow::bail!(
            "function `{name}` runs on {arch}, and this machine is {}: its image cannot run here",
            host_architecture()
        );
    }
    let runner = run::find_runner(settings.search_path.as_deref())?;
    let extra_env = parse_env(&args.env)?;

    // The image, as plan computes it.
    let cloud = Arc::new(connect(settings).await?);
    let region = lambda
        .region
        .clone()
        .unwrap_or_else(|| cloud.region().to_string());
    let event = read_event(args, &region)?;
    let layer_zip = pipeline::find_layer(args.layer.supervisor_layer.as_deref(), settings)
        .ok()
        .and_then(|p| std::fs::read(p).ok())
        .unwrap_or_default();
    let sources = ImageSources::from_settings(settings);
    let mut builder =
        Builder::new(&*cloud, &m, &sources, settings.cache.as_ref(), &layer_zip).await?;
    let package = crate::package::build(&m, f)?;
    let built = builder
        .build(&m, f, &package)
        .await?
        .with_context(|| format!("function `{name}` builds no image"))?;
    let (registries, _scratch) = builder.finish();
    let registries = registries.context("no registries for the function's image")?;
    eprintln!("image {} ({})", built.digest, built.image.base.origin);

    // Its root: the base's layers (cached by digest), and the function
    // layer in a private folder bound at /var/task.
    let scratch = tempfile::Builder::new()
        .prefix("scar-local-")
        .tempdir()
        .context("cannot create a folder for the local run")?;
    let roots = match &settings.cache {
        Some(c) => roots_dir(c),
        None => scratch.path().join("rootfs"),
    };
    let root = rootfs::base_root(&registries, &built.image.base, &roots)
        .await
        .with_context(|| format!("function `{name}`: the root filesystem of its image"))?;
    let task_root = scratch.path().join("task");
    std::fs::create_dir(&task_root)
        .with_context(|| format!("cannot create {}", task_root.display()))?;
    let layer = std::fs::File::open(&built.image.layer_path)
        .with_context(|| format!("cannot read {}", built.image.layer_path.display()))?;
    rootfs::unpack_layer(layer, &task_root).context("unpacking the function layer")?;
    let image = run::image_run(&built.image.config)?;

    let request_id = runtime_api::request_id();
    let invocation = runtime_api::Invocation {
        request_id: request_id.clone(),
        function_arn: format!(
            "arn:aws:lambda:{region}:{}:function:{name}",
            cloud.account_id()
        ),
        event,
        timeout: Duration::from_secs(lambda.timeout.into()),
    };
    let mut api = runtime_api::RuntimeApi::start(invocation)
        .await
        .context("cannot serve the Runtime API on 127.0.0.1")?;
    let lambda_env = [
        ("AWS_LAMBDA_RUNTIME_API", api.address()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", lambda.memory.to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/{request_id}")),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_Image".into()),
        ("LAMBDA_TASK_ROOT", "/var/task".into()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
        ("TZ", ":UTC".into()),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let env = run::merge_env(
        image
            .env
            .iter()
            .cloned()
            .chain(lambda.environment.variables.clone())
            .chain(lambda_env)
            .chain(aws_env(settings, &region).await?)
            .chain(extra_env),
    );
    let mut sandbox = run::Sandbox {
        root,
        task: task_root.join("var").join("task"),
        env,
        working_dir: image.working_dir,
        argv: image.argv,
        new_session: !args.shell,
    };

    if args.shell {
        sandbox.argv = vec!["/bin/sh".into()];
        let mut cmd = sandbox.command(&runner);
        cmd.stdin(std::process::Stdio::inherit());
        if std::io::stdin().is_terminal() {
            eprintln!("shell in {name}'s image; the supervisor is /var/task/supervisor and serves the event on AWS_LAMBDA_RUNTIME_API");
        }
        let status = cmd
            .status()
            .await
            .with_context(|| format!("cannot run {}", runner.program.display()))?;
        return Ok(if status.success() {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        });
    }

    // The supervisor's stdout is a log like its stderr: both go to ours.
    let logs = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .context("cannot pass stderr to the function")?;
    let mut child = sandbox
        .command(&runner)
        .stdout(std::process::Stdio::from(logs))
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {}", runner.program.display()))?;
    let limit = INIT_LIMIT + Duration::from_secs(lambda.timeout.into()) + GRACE;
    let outcome = tokio::select! {
        o = api.outcome() => Ok(o),
        status = child.wait() => Err(match status {
            Ok(s) => anyhow::anyhow!("the function's runtime exited ({s}) before it answered; see its log above"),
            Err(e) => anyhow::anyhow!("cannot wait for {}: {e}", runner.program.display()),
        }),
        _ = tokio::time::sleep(limit) => Err(anyhow::anyhow!(
            "function `{name}` did not answer within {} s (its timeout is {} s){}",
            limit.as_secs(),
            lambda.timeout,
            if api.handed_out().is_none() { "; its runtime never asked for the event" } else { "" }
        )),
    };
    let _ = child.kill().await;
    let outcome = outcome?;
    use runtime_api::Outcome;
    match outcome {
        Outcome::Response(body) => {
            println!("{}", String::from_utf8_lossy(&body));
            Ok(ExitStatus::Success)
        }
        Outcome::Error { kind, body } | Outcome::InitError { kind, body } => {
            println!("{}", String::from_utf8_lossy(&body));
            let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let kind = doc["errorType"]
                .as_str()
                .map(str::to_string)
                .or(kind)
                .unwrap_or_else(|| "Unhandled".into());
            let message = doc["errorMessage"].as_str().unwrap_or_default();
            eprintln!("error: function `{name}` failed: {kind}: {message}");
            Ok(ExitStatus::Failure)
        }
    }
}

/// The folder the unpacked roots are cached in: `<cache>/images/rootfs`.
pub fn roots_dir(cache: &crate::package::Cache) -> PathBuf {
    cache.dir().join("images").join("rootfs")
}
