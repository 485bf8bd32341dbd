//! Manifests: SCAR function-definition files, loaded with source spans,
//! defaults applied, and checked (types, ranges, references, the workflow
//! graph). All problems are reported together; loading does no I/O besides
//! reading the files.

pub mod checks;
pub mod decode;
pub mod diag;
pub mod files;
pub mod graph;
pub mod identity;
pub mod legacy;
pub mod reference;
pub mod schema;
pub mod suggest;
pub mod types;
pub mod yaml;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use diag::{Diagnostic, Severity, SourceSet};
pub use types::*;
use yaml::{Node, PathSeg};

/// Largest manifest file read.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// One function with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionDef {
    pub spec: AwsFunction,
    /// Index of the file in [`Loaded::sources`].
    pub file: usize,
    /// Index in that file's `functions.aws` list.
    pub index: usize,
    /// The folder relative paths (`init_script`) are resolved against.
    pub base_dir: PathBuf,
}

/// How manifests are loaded: what the command line adds to the manifests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Folders besides each manifest's own from which the files it names
    /// (`init_script`, ...) may be read (`--allow-files-in`).
    pub allow_files_in: Vec<PathBuf>,
}

impl FunctionDef {
    pub fn name(&self) -> &str {
        &self.spec.lambda.name
    }

    /// The manifest path of this function's entry.
    pub fn path(&self) -> Vec<PathSeg> {
        vec!["functions".into(), "aws".into(), self.index.into()]
    }
}

/// How the workflow name was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkflowOrigin {
    /// The `workflow:` key.
    Explicit,
    /// The first manifest file's name.
    FileName,
    /// The folder's name.
    FolderName,
}

/// The loaded manifests of one workflow.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub workflow: String,
    /// Where apply and destroy lock the workflow (`lock:`), the key's
    /// `{workflow}` filled in.
    pub lock: Option<types::LockConfig>,
    /// Each manifest file read (its path as given, in reading order) and
    /// the SHA-256 of its text: a saved plan names what it was made from.
    pub files: Vec<(String, String)>,
    /// The `buckets:` settings of every file.
    pub buckets: BTreeMap<String, types::BucketSettings>,
    pub workflow_origin: WorkflowOrigin,
    pub functions: Vec<FunctionDef>,
    /// OSCAR services: parsed, not deployed.
    pub oscar: Vec<(usize, usize)>,
    pub storage_providers: StorageProviders,
    /// How the default workflow name was made (`None` when `workflow:`
    /// names it): what the note on it tells the user.
    pub workflow_basis: Option<String>,
    /// The `--allow-files-in` folders, canonical: with each function's
    /// `base_dir`, where its files may be read from ([`files`]).
    pub allow_files_in: Vec<PathBuf>,
}

impl Manifest {
    /// Where the files function `f` names may be read from.
    pub fn file_roots<'a>(&'a self, f: &'a FunctionDef) -> files::FileRoots<'a> {
        files::FileRoots {
            base_dir: &f.base_dir,
            allowed: &self.allow_files_in,
        }
    }
}

/// Everything loading produced: the sources (for rendering diagnostics),
/// the manifest (when it could be read at all) and the diagnostics.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: SourceSet,
    pub manifest: Option<Manifest>,
    pub diagnostics: Vec<Diagnostic>,
    /// The parsed documents, per file (for locating problems).
    pub roots: Vec<Option<Node>>,
}

impl Loaded {
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, s: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == s).count()
    }

    /// Turns warnings into errors (`--strict`).
    pub fn make_strict(&mut self) {
        for d in &mut self.diagnostics {
            if d.severity == Severity::Warning {
                d.severity = Severity::Error;
            }
        }
    }
}

/// Finds spans in the parsed documents by manifest path.
pub struct Locator<'a> {
    roots: &'a [Option<Node>],
}

impl<'a> Locator<'a> {
    pub fn new(roots: &'a [Option<Node>]) -> Self {
        Locator { roots }
    }

    /// The span of the value at `path`, or of its nearest existing parent.
    /// A mapping or list is shown by its key (or, for a list item that is a
    /// mapping, its first key), not by the whole block.
    pub fn span(&self, file: usize, path: &[PathSeg]) -> Range<usize> {
        let Some(Some(root)) = self.roots.get(file) else {
            return 0..0;
        };
        for n in (0..=path.len()).rev() {
            let sub = &path[..n];
            let Some(node) = root.at(sub) else { continue };
            return match &node.kind {
                yaml::NodeKind::Scalar(_) => node.span.clone(),
                yaml::NodeKind::Map(entries)
                    if matches!(sub.last(), Some(PathSeg::Index(_)) | None) =>
                {
                    entries
                        .first()
                        .map(|(k, _)| k.span.clone())
                        .unwrap_or(node.span.clone())
                }
                _ => root.key_span_at(sub).unwrap_or(node.span.clone()),
            };
        }
        0..0
    }

    /// The span of the key of the entry at `path` (else of its value).
    pub fn key_span(&self, file: usize, path: &[PathSeg]) -> Range<usize> {
        self.roots
            .get(file)
            .and_then(|r| r.as_ref())
            .and_then(|r| r.key_span_at(path))
            .unwrap_or_else(|| self.span(file, path))
    }

    /// The node at `path`, if the document spells it out.
    pub fn node(&self, file: usize, path: &[PathSeg]) -> Option<&'a Node> {
        self.roots.get(file)?.as_ref()?.at(path)
    }

    /// Whether the document at `file` spells out `path`.
    pub fn has(&self, file: usize, path: &[PathSeg]) -> bool {
        self.node(file, path).is_some()
    }
}

/// Builds a path from segments: `p!["functions", "aws", 0]`.
#[macro_export]
macro_rules! p {
    ($($seg:expr),* $(,)?) => {
        <[$crate::manifest::yaml::PathSeg]>::into_vec(::std::boxed::Box::new([
            $($crate::manifest::yaml::PathSeg::from($seg)),*
        ]))
    };
}

/// Loads the manifests named on the command line: files, or folders whose
/// `*.yaml`/`*.yml` files are read in name order (default options).
pub fn load(inputs: &[PathBuf]) -> Loaded {
    load_with(inputs, &LoadOptions::default())
}

/// [`load`] with the command line's options.
pub fn load_with(inputs: &[PathBuf], options: &LoadOptions) -> Loaded {
    let mut loaded = Loaded::default();
    let (allowed, unusable) = files::canonical_allowed(&options.allow_files_in);
    for (dir, why) in unusable {
        loaded.diagnostics.push(
            Diagnostic::error(
                "allow-files-in",
                format!("`--allow-files-in {}` cannot be used: {why}", dir.display()),
            )
            .hint("name an existing folder"),
        );
    }
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut folder_name = None;
    for input in inputs {
        match std::fs::metadata(input) {
            Ok(m) if m.is_dir() => {
                folder_name.get_or_insert_with(|| dir_name(input));
                match manifest_files_in(input) {
                    Ok(found) if found.is_empty() => loaded.diagnostics.push(
                        Diagnostic::error(
                            "no-manifests",
                            format!("no `*.yaml` or `*.yml` files in `{}`", input.display()),
                        )
                        .hint("pass manifest files with `-f FILE`, or a folder that holds them"),
                    ),
                    Ok(found) => {
                        for f in found {
                            files.push((f.clone(), f.display().to_string()));
                        }
                    }
                    Err(e) => loaded.diagnostics.push(Diagnostic::error(
                        "unreadable",
                        format!("cannot read folder `{}`: {e}", input.display()),
                    )),
                }
            }
            Ok(_) => files.push((input.clone(), input.display().to_string())),
            Err(e) => loaded.diagnostics.push(
                Diagnostic::error(
                    "unreadable",
                    format!("cannot read `{}`: {e}", input.display()),
                )
                .hint("check the path given with `-f`"),
            ),
        }
    }
    let schema = schema::manifest_schema();
    let mut docs: Vec<(usize, Option<ManifestParts>)> = Vec::new();
    for (path, name) in &files {
        let text = match read_text(path) {
            Ok(t) => t,
            Err(msg) => {
                loaded.diagnostics.push(Diagnostic::error(
                    "unreadable",
                    format!("cannot read `{name}`: {msg}"),
                ));
                continue;
            }
        };
        let id = loaded.sources.add(name.clone(), text);
        let (root, parts) = load_one(&mut loaded, id, &schema, path);
        loaded.roots.push(root);
        docs.push((id, parts));
    }
    let identity = inputs.first().map(|p| identity::Identity::of(p));
    finish(loaded, docs, &files, folder_name, identity, allowed)
}

/// Loads manifests from text (for tests and fuzzing): `(name, text)` pairs.
pub fn load_texts(texts: &[(&str, &str)]) -> Loaded {
    let mut loaded = Loaded::default();
    let schema = schema::manifest_schema();
    let mut docs = Vec::new();
    let mut files = Vec::new();
    for (name, text) in texts {
        let id = loaded.sources.add(name.to_string(), text.to_string());
        let (root, parts) = load_one(&mut loaded, id, &schema, Path::new(name));
        loaded.roots.push(root);
        docs.push((id, parts));
        files.push((PathBuf::from(name), name.to_string()));
    }
    // Texts are nowhere on disk: the name given is the identity, so the
    // default workflow of a text is the same wherever it is loaded.
    let identity = texts
        .first()
        .map(|(name, _)| identity::Identity::Path(PathBuf::from(name)));
    finish(loaded, docs, &files, None, identity, Vec::new())
}

/// Assembles the files' parts into the manifest, runs the checks on it and
/// orders the diagnostics.
fn finish(
    mut loaded: Loaded,
    docs: Vec<(usize, Option<ManifestParts>)>,
    files: &[(PathBuf, String)],
    folder_name: Option<String>,
    identity: Option<identity::Identity>,
    allow_files_in: Vec<PathBuf>,
) -> Loaded {
    let manifest = assemble(
        &mut loaded,
        docs,
        files,
        folder_name,
        identity,
        allow_files_in,
    );
    if let Some(m) = &manifest {
        let locator = Locator::new(&loaded.roots);
        let mut found = checks::check(m, &locator, &mut loaded.sources);
        found.extend(graph::check(m, &locator));
        loaded.diagnostics.extend(found);
    }
    loaded.manifest = manifest;
    diag::sort(&mut loaded.diagnostics);
    loaded.diagnostics.dedup();
    loaded
}

fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "it is {} bytes; manifests larger than {MAX_FILE_BYTES} bytes are refused",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

fn manifest_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        let is_yaml = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if is_yaml && p.is_file() {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

fn dir_name(dir: &Path) -> String {
    let canon = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    canon
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "default".into())
}

/// What one file contributed.
struct ManifestParts {
    workflow: Option<String>,
    lock: Option<types::LockConfig>,
    buckets: BTreeMap<String, types::BucketSettings>,
    functions: Vec<(usize, AwsFunction)>,
    oscar: usize,
    storage_providers: StorageProviders,
    base_dir: PathBuf,
}

fn load_one(
    loaded: &mut Loaded,
    id: usize,
    schema: &Value,
    path: &Path,
) -> (Option<Node>, Option<ManifestParts>) {
    let text = loaded
        .sources
        .get(id)
        .map(|f| f.text.clone())
        .unwrap_or_default();
    let parsed = match yaml::parse(&text) {
        Ok(p) => p,
        Err(e) => {
            loaded.diagnostics.push(
                Diagnostic::error("yaml-syntax", format!("invalid YAML: {}", e.message))
                    .at(id, e.span)
                    .hint("check the indentation and quoting on this line and the one before"),
            );
            return (None, None);
        }
    };
    for extra in &parsed.extra_documents {
        loaded.diagnostics.push(
            Diagnostic::error(
                "multiple-documents",
                format!(
                    "this file holds {} YAML documents; a manifest file holds one",
                    parsed.documents
                ),
            )
            .at(id, extra.start..extra.start)
            .hint("split the documents into separate files and pass each with `-f`"),
        );
    }
    let Some(root) = parsed.root else {
        loaded.diagnostics.push(
            Diagnostic::error("empty-manifest", "the manifest is empty")
                .in_file(id)
                .hint("a manifest starts with `functions:` and a list under `aws:`"),
        );
        return (None, None);
    };
    let layout = legacy::check_layout(&root, id);
    if !layout.is_empty() {
        let fatal = layout.iter().any(|d| d.severity == Severity::Error);
        loaded.diagnostics.extend(layout);
        if fatal {
            return (Some(root), None);
        }
    }
    let mut walker = decode::Walker::new(schema, id, &mut loaded.sources);
    let value = walker.walk_root(&root);
    let diags = std::mem::take(&mut walker.diags);
    loaded.diagnostics.extend(diags);
    let parts = to_parts(loaded, id, &root, value, path);
    (Some(root), parts)
}

/// Reads the walked JSON into typed parts, function by function, so one
/// broken function does not hide the checks of the others.
fn to_parts(
    loaded: &mut Loaded,
    id: usize,
    root: &Node,
    value: Value,
    path: &Path,
) -> Option<ManifestParts> {
    let mut value = strip_nulls(value);
    let obj = value.as_object_mut()?;
    let workflow = obj
        .get("workflow")
        .and_then(Value::as_str)
        .map(str::to_string);
    let lock = obj
        .remove("lock")
        .and_then(|v| serde_json::from_value(v).ok());
    let buckets = obj
        .remove("buckets")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let storage_providers = obj
        .remove("storage_providers")
        .map(|v| serde_json::from_value(v).unwrap_or_default())
        .unwrap_or_default();
    let functions_v = obj.remove("functions").unwrap_or(Value::Null);
    let aws = functions_v
        .get("aws")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let oscar = functions_v
        .get("oscar")
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap_or(0);
    let mut functions = Vec::new();
    for (i, f) in aws.into_iter().enumerate() {
        match serde_json::from_value::<AwsFunction>(f) {
            Ok(mut f) => {
                if f.iam.role.as_deref() == Some("") {
                    f.iam.role = None;
                }
                functions.push((i, f));
            }
            Err(e) => {
                // The walker reported why (a missing key or a bad value);
                // say so only if it did not.
                let reported = loaded.diagnostics.iter().any(|d| {
                    d.severity == Severity::Error
                        && d.file == Some(id)
                        && d.path
                            .as_deref()
                            .is_some_and(|p| p.starts_with(&format!("functions.aws[{i}]")))
                });
                if !reported {
                    let span = root
                        .at(&p!["functions", "aws", i])
                        .map(|n| n.span.clone())
                        .unwrap_or(0..0);
                    loaded.diagnostics.push(
                        Diagnostic::error(
                            "invalid-function",
                            format!("cannot read this function: {e}"),
                        )
                        .at(id, span),
                    );
                }
            }
        }
    }
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Some(ManifestParts {
        workflow,
        lock,
        buckets,
        functions,
        oscar,
        storage_providers,
        base_dir,
    })
}

/// Drops nulls (values the walker rejected, or `key:` with nothing), so
/// that serde applies the defaults.
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .filter(|v| !v.is_null())
                .map(strip_nulls)
                .collect(),
        ),
        other => other,
    }
}

fn assemble(
    loaded: &mut Loaded,
    docs: Vec<(usize, Option<ManifestParts>)>,
    files: &[(PathBuf, String)],
    folder_name: Option<String>,
    identity: Option<identity::Identity>,
    allow_files_in: Vec<PathBuf>,
) -> Option<Manifest> {
    let mut workflow: Option<(String, usize)> = None;
    let mut lock: Option<(types::LockConfig, usize)> = None;
    let mut buckets: BTreeMap<String, types::BucketSettings> = BTreeMap::new();
    let mut functions = Vec::new();
    let mut oscar = Vec::new();
    let mut providers = StorageProviders::default();
    let mut any = false;
    for (id, parts) in docs {
        let Some(parts) = parts else { continue };
        any = true;
        if let Some(w) = parts.workflow {
            match &workflow {
                None => workflow = Some((w, id)),
                Some((first, first_id)) if *first != w => {
                    let locator = Locator::new(&loaded.roots);
                    loaded.diagnostics.push(
                        Diagnostic::error(
                            "workflow-mismatch",
                            format!("this file says workflow `{w}`, another says `{first}`"),
                        )
                        .at(id, locator.span(id, &p!["workflow"]))
                        .also_at(*first_id, locator.span(*first_id, &p!["workflow"]), "here")
                        .hint("every file of one workflow must name the same workflow; apply different workflows separately"),
                    );
                }
                Some(_) => {}
            }
        }
        for (name, settings) in parts.buckets {
            // A bucket is protected if any file says so.
            let b = buckets.entry(name).or_default();
            b.prevent_destroy |= settings.prevent_destroy;
        }
        if let Some(l) = parts.lock {
            match &lock {
                None => lock = Some((l, id)),
                Some((first, first_id)) if *first != l => {
                    let locator = Locator::new(&loaded.roots);
                    loaded.diagnostics.push(
                        Diagnostic::error(
                            "lock-mismatch",
                            "this file locks the workflow elsewhere than another file does",
                        )
                        .at(id, locator.span(id, &p!["lock"]))
                        .also_at(*first_id, locator.span(*first_id, &p!["lock"]), "here")
                        .hint("write the `lock:` block in one file of the workflow only"),
                    );
                }
                Some(_) => {}
            }
        }
        for (index, spec) in parts.functions {
            functions.push(FunctionDef {
                spec,
                file: id,
                index,
                base_dir: parts.base_dir.clone(),
            });
        }
        for i in 0..parts.oscar {
            oscar.push((id, i));
        }
        merge_providers(loaded, &mut providers, parts.storage_providers, id);
    }
    if !any {
        return None;
    }
    let (workflow, workflow_origin, workflow_basis) = match workflow {
        Some((w, _)) => (w, WorkflowOrigin::Explicit, None),
        None => {
            let (stem, origin) = match folder_name {
                Some(d) => (d, WorkflowOrigin::FolderName),
                None => (
                    files
                        .first()
                        .and_then(|(p, _)| p.file_stem())
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "default".into()),
                    WorkflowOrigin::FileName,
                ),
            };
            let identity = identity.unwrap_or_else(|| identity::Identity::of(Path::new(&stem)));
            let name = identity::default_workflow(&stem, &identity);
            (name, origin, Some(identity.describe()))
        }
    };
    let lock = lock.map(|(mut l, _)| {
        l.key = l.key.replace("{workflow}", &workflow);
        l
    });
    Some(Manifest {
        buckets,
        files: loaded
            .sources
            .files()
            .iter()
            .map(|f| (f.name.clone(), crate::hash::hex_sha256(f.text.as_bytes())))
            .collect(),
        lock,
        workflow,
        workflow_origin,
        functions,
        oscar,
        storage_providers: providers,
        workflow_basis,
        allow_files_in,
    })
}

/// The readable part of a default workflow name from a file or folder
/// name: letters, digits, `-` and `_`, at most
/// [`identity::MAX_STEM`] characters (distinct raw names may clean to the
/// same text; the hash after it keeps them apart).
pub fn sanitize_workflow(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    s = s.trim_matches(|c| c == '-' || c == '_').to_string();
    s.truncate(identity::MAX_STEM);
    s = s.trim_end_matches(['-', '_']).to_string();
    if s.is_empty() {
        "default".into()
    } else {
        s
    }
}

fn merge_providers(
    loaded: &mut Loaded,
    into: &mut StorageProviders,
    from: StorageProviders,
    id: usize,
) {
    fn merge<T: PartialEq>(
        kind: &'static str,
        into: &mut std::collections::BTreeMap<String, T>,
        from: std::collections::BTreeMap<String, T>,
        clashes: &mut Vec<(&'static str, String)>,
    ) {
        for (k, v) in from {
            match into.get(&k) {
                Some(existing) if *existing != v => clashes.push((kind, k)),
                Some(_) => {}
                None => {
                    into.insert(k, v);
                }
            }
        }
    }
    let mut clashes = Vec::new();
    merge("s3", &mut into.s3, from.s3, &mut clashes);
    merge("minio", &mut into.minio, from.minio, &mut clashes);
    merge("onedata", &mut into.onedata, from.onedata, &mut clashes);
    merge("webdav", &mut into.webdav, from.webdav, &mut clashes);
    merge("rucio", &mut into.rucio, from.rucio, &mut clashes);
    let locator = Locator::new(&loaded.roots);
    for (kind, name) in clashes {
        loaded.diagnostics.push(
            Diagnostic::error(
                "provider-conflict",
                format!("storage provider `{kind}.{name}` is defined differently in another file"),
            )
            .at(
                id,
                locator.key_span(id, &p!["storage_providers", kind, name.as_str()]),
            )
            .hint("define each storage provider once, or identically in every file"),
        );
    }
}
