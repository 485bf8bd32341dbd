//! Function packages: the zip Lambda runs (the supervisor comes from its
//! layer): `function_config.yaml` for the supervisor and the user's
//! `init_script`. Built byte-for-byte reproducibly (sorted entries, fixed
//! times and modes), so the same manifest always has the same CodeSha256
//! and an unchanged function plans no code update.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::manifest::{files, FunctionDef, Manifest};

/// A built function package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub zip: Vec<u8>,
    /// The zip's entries, sorted by name: (name, bytes, mode). An image
    /// function gets the same files in its layer.
    pub files: Vec<(String, Vec<u8>, u32)>,
    /// Base64 SHA-256 of the zip, as Lambda reports `CodeSha256`.
    pub sha256: String,
    /// The init script's text (shown as a diff when it changes); for a
    /// script that is not UTF-8 text, only a placeholder with its size and
    /// hash ([`files::script_view`]), never its bytes.
    pub script: Option<String>,
    /// The supervisor's config as plans show it: secrets masked.
    pub config: String,
}

impl Package {
    /// What a reviewer reads of this package.
    pub fn view(&self) -> View {
        View {
            config: self.config.clone(),
            script: self.script.clone(),
        }
    }
}

/// What a reviewer reads of a package: the supervisor's config with its
/// secrets masked, and the init script. Kept in the local cache by code
/// hash, so that the next plan can show what a code update changes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct View {
    pub config: String,
    pub script: Option<String>,
}

/// Why a package could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("cannot use the init_script of function `{function}`")]
    Script {
        function: String,
        #[source]
        source: crate::manifest::files::FileError,
    },
    #[error("cannot build the package of function `{function}`")]
    Zip {
        function: String,
        #[source]
        source: zip::result::ZipError,
    },
}

pub use crate::hash::{code_sha256, hex_sha256};

/// The supervisor's config file, beside the script.
pub const CONFIG_FILE: &str = "function_config.yaml";

/// `lambda` keys the supervisor does not read: Lambda's own settings and
/// SCAR's CLI-only keys.
const DEPLOY_ONLY: &[&str] = &[
    "memory",
    "timeout",
    "description",
    "environment",
    "layers",
    "region",
    "boto_profile",
    "architectures",
    "vpc",
    "file_system",
    "invocation_type",
    "log_type",
    "asynchronous",
    "preheat",
    "deployment",
    "supervisor",
    "runtime",
    "run_script",
    "c_args",
    "extra_payload",
    "prevent_destroy",
    "ignore_changes",
];

/// The function config the supervisor reads: SCAR's `lambda` block with
/// `init_script` reduced to its file name, plus `storage_providers` (JSON,
/// which every YAML reader accepts).
pub fn function_config(m: &Manifest, f: &FunctionDef) -> String {
    let mut lambda = serde_json::to_value(&f.spec.lambda).unwrap_or_default();
    if let Some(obj) = lambda.as_object_mut() {
        // Settings Lambda itself holds stay out of the package, so that
        // changing them updates the configuration, not the code.
        for key in DEPLOY_ONLY {
            obj.remove(*key);
        }
        if let Some(script) = &f.spec.lambda.init_script {
            let base = Path::new(script)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| script.clone());
            obj.insert("init_script".into(), base.into());
        }
        obj.insert(
            "storage_providers".into(),
            serde_json::to_value(&m.storage_providers).unwrap_or_default(),
        );
        if f.spec.lambda.execution_mode.uses_batch() {
            // Only what the supervisor reads (how to submit): the rest of
            // `batch` is the job definition's and the environment's, and
            // keeping it out keeps a change of it from changing the image.
            obj.insert(
                "batch".into(),
                serde_json::json!({
                    "multi_node_parallel": {
                        "enabled": f.spec.batch.multi_node_parallel.enabled,
                    }
                }),
            );
        }
    }
    let mut s = serde_json::to_string_pretty(&lambda).unwrap_or_default();
    s.push('\n');
    s
}

/// Builds the package of one function.
pub fn build(m: &Manifest, f: &FunctionDef) -> Result<Package, PackageError> {
    let mut entries: Vec<(String, Vec<u8>, u32)> = Vec::new();
    entries.push((
        CONFIG_FILE.into(),
        function_config(m, f).into_bytes(),
        0o644,
    ));
    let mut script = None;
    if let Some(rel) = &f.spec.lambda.init_script {
        // The same gate as `validate`'s: confined, regular, capped.
        let bytes =
            files::read(m.file_roots(f), rel, files::FileKey::InitScript).map_err(|source| {
                PackageError::Script {
                    function: f.name().to_string(),
                    source,
                }
            })?;
        script = Some(files::script_view(&bytes));
        let base = Path::new(rel)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| rel.clone());
        entries.push((base, bytes, 0o755));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let zip = zip_entries(&entries).map_err(|source| PackageError::Zip {
        function: f.name().to_string(),
        source,
    })?;
    Ok(Package {
        sha256: code_sha256(&zip),
        zip,
        files: entries,
        script,
        config: masked_config(&function_config(m, f)),
    })
}

/// The view of a package scar built: `function_config.yaml` and the script
/// it names. `None` when the zip is not one (another tool's package).
pub fn inspect(zip: &[u8]) -> Option<View> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).ok()?;
    let mut raw = String::new();
    archive
        .by_name(CONFIG_FILE)
        .ok()?
        .take(MAX_VIEW_BYTES)
        .read_to_string(&mut raw)
        .ok()?;
    let config: serde_json::Value = serde_json::from_str(&raw).ok()?;
    let script = match config
        .get("init_script")
        .and_then(serde_json::Value::as_str)
    {
        Some(name) => {
            let mut bytes = Vec::new();
            archive
                .by_name(name)
                .ok()?
                .take(MAX_VIEW_BYTES)
                .read_to_end(&mut bytes)
                .ok()?;
            Some(files::script_view(&bytes))
        }
        None => None,
    };
    Some(View {
        config: masked_config(&raw),
        script,
    })
}

/// The most of one package entry a view reads.
const MAX_VIEW_BYTES: u64 = 4 * 1024 * 1024;

/// The function config with every value under a secret-looking key
/// (`secret_key`, `password`, `token`, ...) masked, pretty-printed.
pub fn masked_config(raw: &str) -> String {
    fn mask(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, v) in o.iter_mut() {
                    let secret = crate::secrets::key_looks_secret(k)
                        || v.as_str().is_some_and(crate::secrets::value_looks_secret);
                    if secret && !v.is_null() {
                        *v = serde_json::Value::String(crate::secrets::MASK.into());
                    } else {
                        mask(v);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(mask),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(mut v) => {
            mask(&mut v);
            let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
            s.push('\n');
            s
        }
        Err(_) => String::new(),
    }
}

/// The local cache of package views, by code hash, in a folder the
/// settings name ([`crate::settings::Settings::cache`]: `$SCAR_CACHE_DIR`,
/// else `$XDG_CACHE_HOME/scar`, else `~/.cache/scar`). Content-addressed, so it is never stale; losing it only
/// means plans fall back to reading the package back from Lambda.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache { dir: dir.into() }
    }

    /// The folder the cache keeps its files in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of the image layers scar builds (the image module's
    /// `build::layer_in` writes them).
    pub fn layers_dir(&self) -> PathBuf {
        self.dir.join("images").join("layers")
    }

    /// The file of a code hash (a zip's base64 SHA-256, or an image's
    /// `sha256:<hex>` digest); `None` for anything else.
    fn file(&self, sha256: &str) -> Option<PathBuf> {
        if let Some(hex) = sha256.strip_prefix("sha256:") {
            let ok = hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            return ok.then(|| self.dir.join("images").join(format!("{hex}.json")));
        }
        let ok = sha256.len() == 44
            && sha256
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        ok.then(|| {
            let key: String = sha256
                .trim_end_matches('=')
                .chars()
                .map(|c| match c {
                    '/' => '_',
                    '+' => '-',
                    c => c,
                })
                .collect();
            self.dir.join("packages").join(format!("{key}.json"))
        })
    }

    /// Remembers the view of the package with this code hash. Failures are
    /// only logged: the cache is an aid, never a requirement.
    pub fn remember(&self, sha256: &str, view: &View) {
        let Some(path) = self.file(sha256) else {
            return;
        };
        if path.is_file() {
            return;
        }
        let write = || -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(dir)?;
            let tmp = dir.join(format!(".{}.{}", std::process::id(), sha256.len()));
            std::fs::write(&tmp, serde_json::to_vec(view).unwrap_or_default())?;
            std::fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            tracing::debug!("package cache {}: {e}", path.display());
        }
    }

    /// The view remembered for this code hash.
    pub fn recall(&self, sha256: &str) -> Option<View> {
        let bytes = std::fs::read(self.file(sha256)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// The supervisor layer zip made from the supervisor executable: the
/// binary as `bootstrap` at its root (where the `provided.al2023` runtime
/// starts it), reproducibly.
pub fn layer_zip(supervisor: &[u8]) -> Result<Vec<u8>, zip::result::ZipError> {
    zip_entries(&[("bootstrap".to_string(), supervisor.to_vec(), 0o755)])
}

fn zip_entries(entries: &[(String, Vec<u8>, u32)]) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let time = zip::DateTime::from_date_and_time(2020, 1, 1, 0, 0, 0).unwrap_or_default();
    for (name, bytes, mode) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(time)
            .unix_permissions(*mode);
        w.start_file(name.as_str(), opts)?;
        w.write_all(bytes)?;
    }
    Ok(w.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::load_texts;

    #[test]
    fn packages_are_reproducible_and_carry_the_config() {
        let loaded = load_texts(&[(
            "m.yaml",
            "functions:\n  aws:\n  - lambda:\n      name: f\n      memory: 256\n",
        )]);
        let m = loaded.manifest.unwrap();
        let a = build(&m, &m.functions[0]).unwrap();
        let b = build(&m, &m.functions[0]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.sha256, code_sha256(&a.zip));
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(a.zip)).unwrap();
        let mut cfg = String::new();
        std::io::Read::read_to_string(
            &mut archive.by_name("function_config.yaml").unwrap(),
            &mut cfg,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&cfg).unwrap();
        assert_eq!(v["name"], "f");
        assert!(
            v.get("memory").is_none(),
            "Lambda's settings stay out of the package"
        );
        assert_eq!(v["container"]["timeout_threshold"], 10);
    }

    #[test]
    fn a_view_reads_back_the_script_and_masks_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
        let text = "functions:\n  aws:\n  - lambda:\n      name: f\n      init_script: run.sh\n      input:\n      - storage_provider: minio.m\n        path: in\nstorage_providers:\n  minio:\n    m:\n      endpoint: http://127.0.0.1:9000\n      access_key: AKIDEXAMPLE\n      secret_key: wJalrXUtnFEMIEXAMPLEKEY\n";
        let path = dir.path().join("m.yaml");
        std::fs::write(&path, text).unwrap();
        let loaded = crate::manifest::load(&[path]);
        let m = loaded.manifest.unwrap();
        let p = build(&m, &m.functions[0]).unwrap();
        let v = inspect(&p.zip).expect("scar's own package");
        assert_eq!(v, p.view());
        assert_eq!(v.script.as_deref(), Some("#!/bin/sh\necho hi\n"));
        assert!(v.config.contains("http://127.0.0.1:9000"), "{}", v.config);
        assert!(!v.config.contains("AKIDEXAMPLE"), "{}", v.config);
        assert!(
            !v.config.contains("wJalrXUtnFEMIEXAMPLEKEY"),
            "{}",
            v.config
        );
        // The package itself keeps the real credentials: the supervisor needs them.
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(p.zip.clone())).unwrap();
        let mut raw = String::new();
        std::io::Read::read_to_string(
            &mut archive.by_name("function_config.yaml").unwrap(),
            &mut raw,
        )
        .unwrap();
        assert!(raw.contains("wJalrXUtnFEMIEXAMPLEKEY"), "{raw}");
        assert_eq!(inspect(b"not a zip"), None);
    }

    #[test]
    fn the_layer_zip_holds_the_supervisor_as_an_executable_bootstrap_reproducibly() {
        let zip = layer_zip(b"\x7fELF supervisor").unwrap();
        assert_eq!(zip, layer_zip(b"\x7fELF supervisor").unwrap());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        assert_eq!(archive.len(), 1);
        let entry = archive.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
    }

    #[test]
    fn the_cache_is_content_addressed_and_rejects_odd_keys() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let v = View {
            config: "{}\n".into(),
            script: Some("echo\n".into()),
        };
        let sha = code_sha256(b"zip");
        assert_eq!(cache.recall(&sha), None);
        cache.remember(&sha, &v);
        assert_eq!(cache.recall(&sha), Some(v.clone()));
        assert_eq!(Cache::new(dir.path()).recall(&sha), Some(v.clone()));
        cache.remember("../../etc/passwd", &v);
        assert_eq!(cache.recall("../../etc/passwd"), None);
        assert_eq!(
            std::fs::read_dir(dir.path().join("packages"))
                .unwrap()
                .count(),
            1
        );
    }
}
