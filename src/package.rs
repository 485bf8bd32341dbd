//! Function packages: the zip Lambda runs (the supervisor comes from its
//! layer): `function_config.yaml` for the supervisor and the user's
//! `init_script`. Built byte-for-byte reproducibly (sorted entries, fixed
//! times and modes), so the same manifest always has the same CodeSha256
//! and an unchanged function plans no code update.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::manifest::{FunctionDef, Manifest};

/// A built function package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub zip: Vec<u8>,
    /// Base64 SHA-256 of the zip, as Lambda reports `CodeSha256`.
    pub sha256: String,
    /// The init script's text (shown as a diff when it changes).
    pub script: Option<String>,
}

/// Why a package could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("cannot read init_script `{path}` of function `{function}`")]
    Script {
        function: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the package of function `{function}`")]
    Zip {
        function: String,
        #[source]
        source: zip::result::ZipError,
    },
}

/// Base64 SHA-256, Lambda's `CodeSha256` form.
pub fn code_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// Hex SHA-256.
pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

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
            obj.insert(
                "batch".into(),
                serde_json::to_value(&f.spec.batch).unwrap_or_default(),
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
        "function_config.yaml".into(),
        function_config(m, f).into_bytes(),
        0o644,
    ));
    let mut script = None;
    if let Some(rel) = &f.spec.lambda.init_script {
        let path = f.base_dir.join(rel);
        let bytes = std::fs::read(&path).map_err(|source| PackageError::Script {
            function: f.name().to_string(),
            path: path.clone(),
            source,
        })?;
        script = Some(String::from_utf8_lossy(&bytes).into_owned());
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
        script,
    })
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
}
