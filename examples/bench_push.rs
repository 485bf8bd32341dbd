//! Benchmark driver for `bench/image/push.sh`: one image push per process,
//! so that the script can take each push's peak RSS from outside
//! (`/usr/bin/time -f %M`).
//!
//!   bench_push seed --registry 127.0.0.1:PORT [--repo grycap/base] [--layers 5] [--mib 100]
//!   bench_push push --registries-conf FILE --base REF --dest REF \
//!                   --supervisor FILE --script FILE --cache DIR [--tag TAG]
//!
//! `seed` puts a base image of `--mib` MiB of incompressible data, in
//! `--layers` layers, into a registry (with testkit's oci-client helpers,
//! not through scar's code). `push` does what `scar apply` does for one
//! image function: resolves the base (`Registries::resolve`), assembles
//! the function image (`image::build::assemble`: the supervisor, the
//! config and the script in one layer written to `--cache`), and pushes
//! it (`Registries::push`, tagged), then prints one JSON line on stdout:
//! the wall seconds of each phase and in all, and the push report.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use scar::image::build::{self, Supervisor, TaskFile};
use scar::image::reference::ImageRef;
use scar::image::registries::RegistriesConf;
use scar::image::registry::Registries;
use serde_json::json;

#[derive(Parser)]
#[command(about = "image push benchmark driver (see bench/image/push.sh)")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Push a synthetic base image of incompressible layers to a registry.
    Seed {
        /// `127.0.0.1:PORT` of a plain-HTTP registry.
        #[arg(long)]
        registry: String,
        #[arg(long, default_value = "grycap/base")]
        repo: String,
        #[arg(long, default_value = "latest")]
        tag: String,
        #[arg(long, default_value_t = 5)]
        layers: usize,
        /// Total size of the layers' content, in MiB.
        #[arg(long, default_value_t = 100)]
        mib: usize,
    },
    /// Resolve, assemble and push one function image; print a JSON line.
    Push {
        /// The `registries.conf` naming both registries (insecure: plain HTTP).
        #[arg(long)]
        registries_conf: PathBuf,
        /// The base image, e.g. `127.0.0.1:PORT/grycap/base:latest`.
        #[arg(long)]
        base: String,
        /// The function's repository, e.g. `127.0.0.1:PORT/bench/fn`.
        #[arg(long)]
        dest: String,
        /// The supervisor executable that goes into the layer.
        #[arg(long)]
        supervisor: PathBuf,
        /// The user's script (`/var/task/<its file name>`).
        #[arg(long)]
        script: PathBuf,
        /// The layer cache folder.
        #[arg(long)]
        cache: PathBuf,
        #[arg(long, default_value = "latest")]
        tag: String,
        /// The function's architecture (the platform picked from an index).
        #[arg(long, default_value = "x86_64")]
        architecture: String,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Debug logs of the registry client on stderr, when asked
    // (`BENCH_LOG=oci_client=debug`): where a push spends its time.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let result = match args.command {
        Command::Seed {
            registry,
            repo,
            tag,
            layers,
            mib,
        } => seed(&registry, &repo, &tag, layers, mib),
        Command::Push {
            registries_conf,
            base,
            dest,
            supervisor,
            script,
            cache,
            tag,
            architecture,
        } => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| {
                rt.block_on(push(PushArgs {
                    registries_conf,
                    base,
                    dest,
                    supervisor,
                    script,
                    cache,
                    tag,
                    architecture,
                }))
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Pushes `layers` layers of `mib / layers` MiB of pseudo-random bytes
/// each (seeded by their index, so every seed is the same image) to
/// `registry/repo:tag`, and prints the manifest's digest and the blobs'
/// total size as a JSON line.
fn seed(registry: &str, repo: &str, tag: &str, layers: usize, mib: usize) -> anyhow::Result<()> {
    anyhow::ensure!(layers > 0, "--layers must be at least 1");
    let each = mib * 1024 * 1024 / layers;
    let blobs: Vec<Vec<u8>> = (0..layers)
        .map(|i| testkit::image::random_layer(i as u64 + 1, &format!("data/layer{i}.bin"), each))
        .collect();
    let bytes: usize = blobs.iter().map(Vec::len).sum();
    let image = testkit::image::Image {
        layers: blobs,
        run: json!({"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["/bin/sh"]}),
        arch: "amd64".into(),
    };
    let (digest, _) = testkit::image::push(registry, repo, tag, &image);
    println!(
        "{}",
        json!({"image": format!("{registry}/{repo}:{tag}"), "digest": digest,
               "layers": layers, "layer_bytes": bytes})
    );
    Ok(())
}

struct PushArgs {
    registries_conf: PathBuf,
    base: String,
    dest: String,
    supervisor: PathBuf,
    script: PathBuf,
    cache: PathBuf,
    tag: String,
    architecture: String,
}

async fn push(a: PushArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let start = Instant::now();
    let conf = RegistriesConf::load(&a.registries_conf)?;
    let registries = Registries::new(conf);
    let base = ImageRef::parse(&a.base).with_context(|| format!("--base `{}`", a.base))?;
    let dest = ImageRef::parse(&a.dest).with_context(|| format!("--dest `{}`", a.dest))?;
    let supervisor = Supervisor::at(&a.supervisor)
        .with_context(|| format!("cannot read the supervisor {}", a.supervisor.display()))?;
    let script_bytes = std::fs::read(&a.script)
        .with_context(|| format!("cannot read the script {}", a.script.display()))?;
    let script_name = a
        .script
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "script.sh".into());
    // What `scar::package` writes, in its order (sorted by name).
    let config = format!("{{\n  \"name\": \"bench\",\n  \"init_script\": \"{script_name}\"\n}}\n");
    let files = vec![
        TaskFile {
            name: scar::package::CONFIG_FILE.into(),
            bytes: config.into_bytes(),
            mode: 0o644,
            label: scar::image::build::LABEL_CONFIG,
        },
        TaskFile {
            name: script_name,
            bytes: script_bytes,
            mode: 0o755,
            label: scar::image::build::LABEL_SCRIPT,
        },
    ];

    let t = Instant::now();
    let resolved = registries.resolve(&base, &a.architecture).await?;
    let resolve_s = t.elapsed().as_secs_f64();
    let base_bytes: u64 = resolved.layers.iter().map(|l| l.size).sum();

    let t = Instant::now();
    let image = build::assemble_on(resolved, &a.cache, &supervisor, &files)?;
    let assemble_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let report = registries
        .push(
            &dest,
            &image.base,
            &image.layer_path,
            &image.layer,
            &image.config,
            &image.manifest,
            Some(&a.tag),
        )
        .await?;
    let push_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.digest == image.digest,
        "the registry stored {} but the image is {}",
        report.digest,
        image.digest
    );
    println!(
        "{}",
        json!({
            "wall_s": start.elapsed().as_secs_f64(),
            "resolve_s": resolve_s,
            "assemble_s": assemble_s,
            "push_s": push_s,
            "bytes_sent": report.bytes_sent,
            "uploaded": report.uploaded,
            "skipped": report.skipped,
            "mounted": report.mounted,
            "digest": report.digest,
            "base_layer_bytes": base_bytes,
            "new_layer_bytes": image.layer.size,
            "config_bytes": image.config.len(),
            "manifest_bytes": image.manifest.len(),
        })
    );
    Ok(())
}
