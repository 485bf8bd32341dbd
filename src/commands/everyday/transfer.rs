//! `scar put` and `scar get`: files and folders to a function's input (or
//! any `s3://` folder) and back, keeping the folder structure, many files
//! at once, large files in parts. Everything is checked before anything
//! moves: a missing local path, a key that would land outside the
//! destination, a local file in the way (`get` replaces none without
//! `--overwrite`).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use serde::Serialize;

use super::{target, Meter, S3Location};
use crate::cli::{GetArgs, OutputFormat, PutArgs, TransferArgs};
use crate::cloud::data::{DataPlane, ObjectsApi};
use crate::commands::{connect, ExitStatus};
use crate::settings::Settings;

/// One file to move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Move {
    pub path: PathBuf,
    pub bucket: String,
    pub key: String,
    pub size: u64,
}

#[derive(Serialize)]
struct Summary<'a> {
    dry_run: bool,
    files: usize,
    bytes: u64,
    seconds: f64,
    requests: u64,
    moved: &'a [Move],
}

/// Where `put` sends files or `get` reads them: an `s3://` URI, else the
/// function's first S3 input (`put`) or output (`get`) in the manifests.
fn location(transfer: &TransferArgs, text: &str, input: bool) -> anyhow::Result<S3Location> {
    if let Some(loc) = S3Location::parse_uri(text) {
        return loc;
    }
    let t = target(&transfer.manifests, text)?;
    let what = if input { "input" } else { "output" };
    if t.def.is_none() {
        anyhow::bail!(
            "the {what} of function `{text}` is declared in its manifest, and none was read\nhint: pass the manifest with `-f FILE`, or give the folder as s3://BUCKET/FOLDER"
        );
    }
    let found = if input {
        t.input()
    } else {
        let outs = t.outputs();
        if outs.len() > 1 {
            eprintln!(
                "note: function `{text}` has {} S3 outputs; this is its first ({}); give another as s3://BUCKET/FOLDER",
                outs.len(),
                outs[0]
            );
        }
        outs.into_iter().next()
    };
    found.ok_or_else(|| {
        anyhow::anyhow!(
            "function `{text}` has no S3 {what} in {}\nhint: give the folder as s3://BUCKET/FOLDER",
            t.origin()
        )
    })
}

/// The files under the local paths, with their keys in `to`: a file goes
/// to `FOLDER/<its name>`, a folder to `FOLDER/<its name>/...`, and a
/// folder written with a trailing `/` has its contents go to `FOLDER/...`
/// (as rsync reads it). Sorted by key; every path must exist.
pub fn files_to_put(paths: &[String], to: &S3Location) -> anyhow::Result<Vec<Move>> {
    let mut missing = Vec::new();
    for p in paths {
        if std::fs::metadata(p).is_err() {
            missing.push(p.as_str());
        }
    }
    if !missing.is_empty() {
        anyhow::bail!(
            "{} not exist: {}\nhint: check the path (relative paths are read from {})",
            if missing.len() == 1 {
                "this path does"
            } else {
                "these paths do"
            },
            missing
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| "the current folder".into())
        );
    }
    let mut out = Vec::new();
    for p in paths {
        let path = Path::new(p);
        if path.is_dir() {
            let base = if p.ends_with('/') {
                String::new()
            } else {
                name_of(path)?
            };
            walk(path, &base, to, &mut out)?;
        } else {
            let name = name_of(path)?;
            out.push(new_move(path, to, &name)?);
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    if let Some(w) = out.windows(2).find(|w| w[0].key == w[1].key) {
        anyhow::bail!(
            "`{}` and `{}` would both go to s3://{}/{}\nhint: put them in separate runs, or to different folders",
            w[0].path.display(),
            w[1].path.display(),
            w[0].bucket,
            w[0].key
        );
    }
    Ok(out)
}

/// A path's last name, as text (keys are UTF-8).
fn name_of(path: &Path) -> anyhow::Result<String> {
    let canonical;
    let named = match path.file_name() {
        Some(_) => path,
        None => {
            // `.` or `..`: the folder's own name.
            canonical = std::fs::canonicalize(path)?;
            &canonical
        }
    };
    match named.file_name().map(|n| n.to_str()) {
        Some(Some(n)) => Ok(n.to_string()),
        Some(None) => anyhow::bail!(
            "`{}`: the name is not UTF-8, and S3 keys are\nhint: rename the file",
            path.display()
        ),
        None => Ok(String::new()),
    }
}

fn new_move(path: &Path, to: &S3Location, rel: &str) -> anyhow::Result<Move> {
    let size = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?
        .len();
    Ok(Move {
        path: path.to_path_buf(),
        bucket: to.bucket.clone(),
        key: to.key(rel),
        size,
    })
}

fn walk(dir: &Path, rel: &str, to: &S3Location, out: &mut Vec<Move>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read the folder `{}`: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let name = name_of(&path)?;
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let meta = std::fs::metadata(&path)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
        if meta.is_dir() {
            walk(&path, &child, to, out)?;
        } else if meta.is_file() {
            out.push(new_move(&path, to, &child)?);
        }
    }
    Ok(())
}

/// The local path of each object under `from` in `dest`: its key past the
/// folder, split at `/`. A key that would land outside `dest` (`..`, an
/// absolute path) is refused, as is one that needs a file and a folder of
/// the same name.
pub fn files_to_get(
    objects: &[crate::cloud::data::ObjectInfo],
    from: &S3Location,
    dest: &Path,
) -> anyhow::Result<Vec<Move>> {
    let strip = from.list_prefix();
    let mut out = Vec::new();
    for o in objects {
        let rel = o.key.strip_prefix(&strip).unwrap_or(&o.key);
        let mut path = dest.to_path_buf();
        let mut parts = 0;
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            let c = Path::new(part).components().next();
            if !matches!(c, Some(Component::Normal(_))) || Path::new(part).components().count() != 1
            {
                anyhow::bail!(
                    "the object s3://{}/{} would be written outside `{}`\nhint: download it with another tool, or rename it",
                    from.bucket,
                    o.key,
                    dest.display()
                );
            }
            path.push(part);
            parts += 1;
        }
        if parts == 0 {
            continue;
        }
        out.push(Move {
            path,
            bucket: from.bucket.clone(),
            key: o.key.clone(),
            size: o.size,
        });
    }
    let files: std::collections::HashMap<&Path, &Move> =
        out.iter().map(|m| (m.path.as_path(), m)).collect();
    for m in &out {
        for dir in m.path.ancestors().skip(1) {
            if dir == dest {
                break;
            }
            if let Some(other) = files.get(dir) {
                anyhow::bail!(
                    "s3://{}/{} and s3://{}/{} need `{}` to be both a file and a folder\nhint: download one of them with s3://BUCKET/KEY on its own",
                    other.bucket,
                    other.key,
                    m.bucket,
                    m.key,
                    dir.display()
                );
            }
        }
    }
    Ok(out)
}

/// The local files `get` would replace.
fn in_the_way(moves: &[Move]) -> Vec<&Path> {
    moves
        .iter()
        .filter(|m| std::fs::symlink_metadata(&m.path).is_ok())
        .map(|m| m.path.as_path())
        .collect()
}

pub async fn put(settings: &Settings, args: &PutArgs) -> anyhow::Result<ExitStatus> {
    let (target_text, paths) = args
        .paths
        .split_last()
        .ok_or_else(|| anyhow::anyhow!("give the files to put, then where to"))?;
    let to = location(&args.transfer, target_text, true)?;
    let moves = files_to_put(paths, &to)?;
    transfer(settings, &args.transfer, moves, Direction::Up, &to).await
}

pub async fn get(settings: &Settings, args: &GetArgs) -> anyhow::Result<ExitStatus> {
    let from = location(&args.transfer, &args.source, false)?;
    let dest = args.dest.clone().unwrap_or_else(|| PathBuf::from("."));
    if dest.exists() && !dest.is_dir() {
        anyhow::bail!(
            "`{}` is a file, and get downloads into a folder\nhint: name a folder (it is created if missing)",
            dest.display()
        );
    }
    let cloud = connect(settings).await?;
    let objects = cloud
        .list_objects(&from.bucket, &from.list_prefix())
        .await?;
    let moves = files_to_get(&objects, &from, &dest)?;
    if !args.overwrite {
        let taken = in_the_way(&moves);
        if !taken.is_empty() {
            let shown: Vec<String> = taken
                .iter()
                .take(5)
                .map(|p| format!("`{}`", p.display()))
                .collect();
            let more = if taken.len() > 5 {
                format!(" and {} more", taken.len() - 5)
            } else {
                String::new()
            };
            anyhow::bail!(
                "{} local file{} would be replaced: {}{more}; nothing was downloaded\nhint: pass --overwrite to replace them, or download into another folder",
                taken.len(),
                if taken.len() == 1 { "" } else { "s" },
                shown.join(", ")
            );
        }
    }
    if moves.is_empty() {
        eprintln!("note: nothing under {from}");
    }
    transfer_with(
        settings,
        &args.transfer,
        moves,
        Direction::Down,
        &from,
        Arc::new(cloud),
    )
    .await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

async fn transfer(
    settings: &Settings,
    args: &TransferArgs,
    moves: Vec<Move>,
    dir: Direction,
    at: &S3Location,
) -> anyhow::Result<ExitStatus> {
    if args.dry_run {
        return report(args, &moves, dir, at, 0.0, 0);
    }
    let cloud = Arc::new(connect(settings).await?);
    transfer_with(settings, args, moves, dir, at, cloud).await
}

async fn transfer_with<C: DataPlane>(
    settings: &Settings,
    args: &TransferArgs,
    moves: Vec<Move>,
    dir: Direction,
    at: &S3Location,
    cloud: Arc<C>,
) -> anyhow::Result<ExitStatus> {
    if args.dry_run || moves.is_empty() {
        let requests = crate::cloud::Cloud::requests(&*cloud).total();
        return report(args, &moves, dir, at, 0.0, requests);
    }
    let start = Instant::now();
    let total: u64 = moves.iter().map(|m| m.size).sum();
    let verb = if dir == Direction::Up {
        "uploading"
    } else {
        "downloading"
    };
    let count = moves.len();
    let meter = Meter::new(settings, total, true, &format!("0/{count} files"));
    let bytes = |n: u64| meter.add(n);
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let results = futures_util::stream::iter(moves.iter())
        .map(|m| {
            let cloud = &cloud;
            let bytes = &bytes;
            let (finished, meter) = (&finished, &meter);
            async move {
                let r = match dir {
                    Direction::Up => cloud.upload_file(&m.bucket, &m.key, &m.path, bytes).await,
                    Direction::Down => {
                        if let Some(parent) = m.path.parent() {
                            if let Err(e) = tokio::fs::create_dir_all(parent).await {
                                return Err(anyhow::anyhow!(
                                    "cannot make the folder `{}`: {e}",
                                    parent.display()
                                ));
                            }
                        }
                        cloud
                            .download_file(&m.bucket, &m.key, &m.path, bytes)
                            .await
                            .map(|_| ())
                    }
                };
                let n = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                meter.message(format!("{n}/{count} files"));
                r.map_err(anyhow::Error::from)
            }
        })
        .buffer_unordered(usize::from(args.parallelism))
        .collect::<Vec<_>>()
        .await;
    drop(meter);
    let failed: Vec<anyhow::Error> = results.into_iter().filter_map(Result::err).collect();
    let requests = crate::cloud::Cloud::requests(&*cloud).total();
    if let Some(first) = failed.into_iter().next() {
        let hint = if dir == Direction::Up {
            "check that the bucket exists (`scar apply` creates a workflow's buckets); files already uploaded stay, and putting again replaces them"
        } else {
            "files already downloaded stay; get again with --overwrite"
        };
        return Err(first.context(format!("{verb} failed\nhint: {hint}")));
    }
    report(
        args,
        &moves,
        dir,
        at,
        start.elapsed().as_secs_f64(),
        requests,
    )
}

fn report(
    args: &TransferArgs,
    moves: &[Move],
    dir: Direction,
    at: &S3Location,
    seconds: f64,
    requests: u64,
) -> anyhow::Result<ExitStatus> {
    let bytes: u64 = moves.iter().map(|m| m.size).sum();
    match args.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&Summary {
                dry_run: args.dry_run,
                files: moves.len(),
                bytes,
                seconds,
                requests,
                moved: moves,
            })?
        ),
        OutputFormat::Text => {
            if args.dry_run {
                for m in moves {
                    match dir {
                        Direction::Up => println!(
                            "would upload {} -> s3://{}/{} ({})",
                            m.path.display(),
                            m.bucket,
                            m.key,
                            size_text(m.size)
                        ),
                        Direction::Down => println!(
                            "would download s3://{}/{} -> {} ({})",
                            m.bucket,
                            m.key,
                            m.path.display(),
                            size_text(m.size)
                        ),
                    }
                }
            }
            let (verb, prep) = match (dir, args.dry_run) {
                (Direction::Up, false) => ("Uploaded", "to"),
                (Direction::Up, true) => ("Would upload", "to"),
                (Direction::Down, false) => ("Downloaded", "from"),
                (Direction::Down, true) => ("Would download", "from"),
            };
            let time = if args.dry_run {
                String::new()
            } else {
                format!(" in {seconds:.2} s")
            };
            println!(
                "{verb} {} file{} ({}) {prep} {at}{time}.",
                moves.len(),
                if moves.len() == 1 { "" } else { "s" },
                size_text(bytes)
            );
        }
    }
    Ok(ExitStatus::Success)
}

/// `12 B`, `64.0 KiB`, `200.0 MiB`.
pub fn size_text(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::data::ObjectInfo;

    fn obj(key: &str) -> ObjectInfo {
        ObjectInfo {
            key: key.into(),
            size: 1,
            etag: String::new(),
            last_modified: None,
        }
    }

    #[test]
    fn folders_keep_their_name_unless_written_with_a_slash() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir_all(tree.join("sub dir")).unwrap();
        std::fs::write(tree.join("a.txt"), "a").unwrap();
        std::fs::write(tree.join("sub dir/ü.txt"), "b").unwrap();
        let to = S3Location::from_path("b/in");
        let t = tree.to_str().unwrap();
        let keys = |m: Vec<Move>| m.into_iter().map(|m| m.key).collect::<Vec<_>>();
        assert_eq!(
            keys(files_to_put(&[t.to_string()], &to).unwrap()),
            ["in/tree/a.txt", "in/tree/sub dir/ü.txt"]
        );
        assert_eq!(
            keys(files_to_put(&[format!("{t}/")], &to).unwrap()),
            ["in/a.txt", "in/sub dir/ü.txt"]
        );
        let err = files_to_put(&[format!("{t}/nope")], &to).unwrap_err();
        assert!(err.to_string().contains("/nope`"), "{err}");
    }

    #[test]
    fn keys_that_leave_the_destination_are_refused() {
        let from = S3Location::from_path("b/out");
        let dest = Path::new("/tmp/d");
        let ok = files_to_get(&[obj("out/x/y.txt"), obj("out/z")], &from, dest).unwrap();
        assert_eq!(ok[0].path, Path::new("/tmp/d/x/y.txt"));
        for bad in ["out/../etc/passwd", "out/a/../../b"] {
            let err = files_to_get(&[obj(bad)], &from, dest).unwrap_err();
            assert!(err.to_string().contains("outside"), "{bad}: {err}");
        }
        let err = files_to_get(&[obj("out/a"), obj("out/a/b")], &from, dest).unwrap_err();
        assert!(
            err.to_string().contains("both a file and a folder"),
            "{err}"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(12), "12 B");
        assert_eq!(size_text(64 * 1024), "64.0 KiB");
        assert_eq!(size_text(200 * 1024 * 1024), "200.0 MiB");
    }
}
