//! SCAR's own manifests (`../shared/corpus/scar-examples/`, read in place):
//! every current 4.x example loads with no errors and the values SCAR would
//! use (names, defaults, inputs, outputs); every file SCAR 4.3.1 cannot read
//! is rejected with a located, explained message. A last test makes sure no
//! file of the corpus goes untested.

use std::path::PathBuf;

use scar::manifest::{self, ExecutionMode, Loaded, LogLevel, Severity};

fn corpus() -> PathBuf {
    testkit::shared_path("corpus/scar-examples")
}

fn load(name: &str) -> Loaded {
    let dir = corpus();
    // SCAR's MPI example names files in `/tmp`: read only when allowed.
    let options = manifest::LoadOptions {
        allow_files_in: if name == "mpi--lambda.yaml" {
            vec![PathBuf::from("/tmp")]
        } else {
            Vec::new()
        },
    };
    manifest::load_with(&[dir.join(name)], &options)
}

/// Loads a 4.x example and checks it has no errors.
fn load_ok(name: &str) -> manifest::Manifest {
    let loaded = load(name);
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    loaded.manifest.expect("a manifest")
}

fn codes(loaded: &Loaded, severity: Severity) -> Vec<&'static str> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .map(|d| d.code)
        .collect()
}

/// The files each test below covers.
const FOUR_X: &[&str] = &[
    "_root--fdl-example.yaml",
    "aws-cli.yaml",
    "cowsay--scar-cowsay.yaml",
    "cowsay--scar-minicow.yaml",
    "cowsay-ecr--basic-cow.yaml",
    "darknet--scar-darknet.yaml",
    "elixir.yaml",
    "erlang.yaml",
    "ffmpeg.yaml",
    "imagemagick.yaml",
    "mpi--lambda.yaml",
    "mrbayes.yaml",
    "r.yaml",
    "ruby.yaml",
    "video-process.yaml",
];
const NOT_READ_BY_SCAR: &[&str] = &[
    "_test--functional-parser-fdl.yaml",
    "cowsay-ecr--function_config.yaml",
    "legacy-3.2.2--darknet--scar-darknet-api-bin.yaml",
    "legacy-3.2.2--mrbayes--scar-mrbayes-batch.yaml",
    "legacy-3.2.2--video-process--scar-batch-ffmpeg-split.yaml",
    "legacy-3.2.2--video-process--scar-lambda-darknet.yaml",
    "legacy-v3.0.0--darknet--scar-darknet-api.yaml",
];

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn every_corpus_file_is_covered_by_a_test() {
    let dir = corpus();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect();
    files.sort();
    for f in &files {
        assert!(
            FOUR_X.contains(&f.as_str()) || NOT_READ_BY_SCAR.contains(&f.as_str()),
            "{f} is in the corpus but no test covers it"
        );
    }
    for f in FOUR_X {
        let m = load_ok(f);
        assert!(!m.functions.is_empty(), "{f}: no functions");
    }
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn imagemagick_loads_with_scar_defaults() {
    let m = load_ok("imagemagick.yaml");
    assert!(m.workflow.starts_with("imagemagick-"), "{}", m.workflow);
    assert_eq!(m.functions.len(), 1);
    let l = &m.functions[0].spec.lambda;
    assert_eq!(l.name, "scar-imagemagick");
    assert_eq!(l.init_script.as_deref(), Some("grayify-image.sh"));
    assert_eq!(l.container.image.as_deref(), Some("grycap/imagemagick"));
    // SCAR's defaults.
    assert_eq!(l.memory, 512);
    assert_eq!(l.timeout, 300);
    assert_eq!(l.container.timeout_threshold, 10);
    assert_eq!(l.execution_mode, ExecutionMode::Lambda);
    assert_eq!(l.log_level, LogLevel::Info);
    assert_eq!(l.description, "Automatically generated lambda function");
    assert_eq!(
        m.functions[0].spec.cloudwatch.log_retention_policy_in_days,
        30
    );
    assert!(m.functions[0].spec.iam.role.is_none());
    // Inputs and outputs.
    assert_eq!(l.input.len(), 1);
    assert_eq!(l.input[0].storage_provider, "s3");
    assert_eq!(l.input[0].path, "scar-imagemagick/input");
    assert_eq!(l.output.len(), 1);
    assert_eq!(l.output[0].path, "scar-imagemagick/output");
    assert!(l.output[0].prefix.is_empty() && l.output[0].suffix.is_empty());
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn darknet_and_ffmpeg_keep_their_memory() {
    let m = load_ok("darknet--scar-darknet.yaml");
    let l = &m.functions[0].spec.lambda;
    assert_eq!((l.name.as_str(), l.memory), ("scar-darknet-s3", 2048));
    assert_eq!(l.input[0].path, "scar-darknet/input");
    let m = load_ok("ffmpeg.yaml");
    let l = &m.functions[0].spec.lambda;
    assert_eq!((l.name.as_str(), l.memory), ("scar-ffmpeg", 2048));
    assert_eq!(l.container.image.as_deref(), Some("sameersbn/ffmpeg"));
    assert_eq!(l.output[0].path, "scar-ffmpeg/output");
    let m = load_ok("mrbayes.yaml");
    assert_eq!(
        m.functions[0].spec.lambda.input[0].path,
        "scar-mrbayes/input"
    );
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn video_process_is_a_two_function_workflow_with_batch_defaults() {
    let loaded = load("video-process.yaml");
    assert_eq!(loaded.error_count(), 0, "{:#?}", loaded.diagnostics);
    // Batch needs subnets that SCAR took from scar.cfg: a warning, not an error.
    assert!(codes(&loaded, Severity::Warning).contains(&"batch-network-missing"));
    let m = loaded.manifest.unwrap();
    let names: Vec<&str> = m.functions.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["scar-batch-ffmpeg-split", "scar-lambda-darknet"]);
    let split = &m.functions[0].spec;
    assert_eq!(split.lambda.execution_mode, ExecutionMode::Batch);
    assert_eq!(split.batch.vcpus, 1);
    assert_eq!(split.batch.memory, 1024);
    assert!(!split.batch.enable_gpu);
    assert_eq!(split.batch.compute_resources.max_v_cpus, 2);
    assert_eq!(split.batch.compute_resources.instance_types, ["m3.medium"]);
    assert_eq!(split.batch.multi_node_parallel.number_nodes, 10);
    // The chain: the first function's output is the second's input.
    assert_eq!(split.lambda.output[0].path, "scar-video/split-images");
    let darknet = &m.functions[1].spec.lambda;
    assert_eq!(darknet.input[0].path, "scar-video/split-images");
    assert_eq!(darknet.memory, 3008);
    // No loop, no cycle, no overlap.
    for code in ["endless-loop", "workflow-cycle", "overlapping-triggers"] {
        assert!(!loaded.diagnostics.iter().any(|d| d.code == code));
    }
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn the_reference_file_loads_every_key() {
    let loaded = load("_root--fdl-example.yaml");
    assert_eq!(loaded.error_count(), 0, "{:#?}", loaded.diagnostics);
    let warnings = codes(&loaded, Severity::Warning);
    // Its placeholders and the stray quote in `timeout_threshold"` are
    // reported, as are the credentials written inline (5 of them) and the
    // environment variables whose names look secret (`KEY1`, `KEY2`, twice).
    assert!(warnings.contains(&"invalid-layer-arn"));
    assert!(warnings.contains(&"unknown-key"));
    assert!(warnings.contains(&"oscar-not-deployed"));
    assert_eq!(
        warnings
            .iter()
            .filter(|c| **c == "inline-credential")
            .count(),
        9
    );
    let m = loaded.manifest.as_ref().unwrap();
    let f = &m.functions[0].spec;
    let l = &f.lambda;
    assert_eq!(l.name, "function1");
    assert_eq!(l.memory, 1024);
    assert_eq!(l.timeout, 300);
    assert_eq!(l.region.as_deref(), Some("us-east-1"));
    assert_eq!(l.layers, ["arn:...."]);
    assert_eq!(l.environment.variables["KEY1"], "val1");
    assert_eq!(l.container.environment.variables["KEY2"], "val2");
    assert_eq!(
        l.container.image.as_deref(),
        Some("jrottenberg/ffmpeg:4.1-ubuntu")
    );
    assert_eq!(l.input[0].storage_provider, "minio.my_minio");
    assert_eq!(l.output[0].storage_provider, "s3.my_s3");
    assert_eq!(l.output[0].suffix, ["wav", "srt"]);
    assert_eq!(l.output[0].prefix, ["result-"]);
    // `role: ""` means "not set".
    assert!(f.iam.role.is_none());
    assert_eq!(f.cloudwatch.log_retention_policy_in_days, 30);
    // YAML 1.1 `False` is a boolean, as PyYAML reads it.
    assert!(!f.batch.enable_gpu);
    assert_eq!(
        f.batch.compute_resources.security_group_ids,
        ["sg-12345678"]
    );
    assert_eq!(m.storage_providers.minio["my_minio"].verify, Some(true));
    assert_eq!(
        m.storage_providers.onedata["my_onedata"].space.as_deref(),
        Some("onedata_space")
    );
    assert_eq!(m.oscar.len(), 1);
    // The secrets never show.
    let text = scar::commands::validate::render_text(&loaded);
    for secret in ["awskey", "mpass", "mytoken"] {
        assert!(!text.contains(secret), "{secret} shown:\n{text}");
    }
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn small_examples_load_their_images() {
    for (file, name, image) in [
        (
            "cowsay--scar-cowsay.yaml",
            "scar-cowsay",
            Some("grycap/cowsay"),
        ),
        ("elixir.yaml", "scar-elixir", Some("grycap/elixir")),
        ("erlang.yaml", "scar-erlang", Some("grycap/erlang")),
        ("r.yaml", "scar-r", Some("grycap/r-base-lambda")),
        ("ruby.yaml", "scar-ruby", Some("ruby:2.2.10-slim-jessie")),
        (
            "cowsay-ecr--basic-cow.yaml",
            "scar-ecr-cowsay",
            Some("ubuntu:20.04"),
        ),
        ("cowsay--scar-minicow.yaml", "scar-minicow", None),
    ] {
        let m = load_ok(file);
        let l = &m.functions[0].spec.lambda;
        assert_eq!(l.name, name, "{file}");
        assert_eq!(l.container.image.as_deref(), image, "{file}");
    }
    let m = load_ok("cowsay--scar-minicow.yaml");
    assert_eq!(
        m.functions[0].spec.lambda.container.image_file.as_deref(),
        Some("minicow.tar.gz")
    );
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn aws_cli_credentials_are_flagged_and_masked() {
    let loaded = load("aws-cli.yaml");
    assert_eq!(loaded.error_count(), 0);
    assert_eq!(
        codes(&loaded, Severity::Warning),
        ["inline-credential", "inline-credential"]
    );
    let m = loaded.manifest.as_ref().unwrap();
    assert_eq!(
        m.functions[0].spec.lambda.container.environment.variables["AWS_ACCESS_KEY_ID"],
        "XXXXX"
    );
    let text = scar::commands::validate::render_text(&loaded);
    assert!(!text.contains("XXXXX"), "{text}");
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn mpi_names_files_in_tmp_which_need_allow_files_in() {
    let dir = corpus();
    let loaded = manifest::load(&[dir.join("mpi--lambda.yaml")]);
    let outside: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "file-outside-folder")
        .collect();
    assert_eq!(outside.len(), 2, "{:#?}", loaded.diagnostics);
    for d in outside {
        assert_eq!(d.severity, Severity::Error);
        assert!(d.span.is_some());
        let hint = d.hint.as_deref().unwrap();
        assert!(hint.contains("--allow-files-in /tmp"), "{hint}");
    }
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn mpi_keeps_its_deployment_bucket_and_run_script() {
    let m = load_ok("mpi--lambda.yaml");
    let l = &m.functions[0].spec.lambda;
    assert_eq!(l.name, "scar-mpi");
    assert_eq!(l.run_script.as_deref(), Some("/tmp/run_helper.sh"));
    assert_eq!(l.deployment.bucket.as_deref(), Some("scar-mpi"));
    assert_eq!(l.deployment.max_payload_size, 52_428_800);
    assert_eq!(l.container.environment.variables["EXEC_TYPE"], "lambda");
    assert_eq!(l.output[0].path, "scar-mpi/output");
}

/// (file, code, line, column) of the expected rejection.
const REJECTIONS: &[(&str, &str, usize, usize)] = &[
    ("_test--functional-parser-fdl.yaml", "draft-layout", 1, 1),
    (
        "cowsay-ecr--function_config.yaml",
        "function-config-not-manifest",
        1,
        1,
    ),
    (
        "legacy-3.2.2--darknet--scar-darknet-api-bin.yaml",
        "legacy-layout",
        2,
        3,
    ),
    (
        "legacy-3.2.2--mrbayes--scar-mrbayes-batch.yaml",
        "legacy-layout",
        2,
        3,
    ),
    (
        "legacy-3.2.2--video-process--scar-batch-ffmpeg-split.yaml",
        "legacy-layout",
        2,
        3,
    ),
    (
        "legacy-3.2.2--video-process--scar-lambda-darknet.yaml",
        "legacy-layout",
        2,
        3,
    ),
    (
        "legacy-v3.0.0--darknet--scar-darknet-api.yaml",
        "legacy-layout",
        2,
        3,
    ),
];

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn files_scar_4_cannot_read_are_rejected_with_the_4x_equivalent() {
    for (file, code, line, col) in REJECTIONS {
        let loaded = load(file);
        let errors: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{file}: {errors:#?}");
        let d = errors[0];
        assert_eq!(d.code, *code, "{file}");
        let span = d.span.clone().unwrap();
        assert_eq!(
            loaded.sources.line_col(d.file.unwrap(), span.start),
            Some((*line, *col)),
            "{file}"
        );
        let hint = d.hint.as_deref().unwrap();
        assert!(
            hint.contains("functions:\n    aws:\n    - lambda:"),
            "{file}: {hint}"
        );
        assert!(loaded.manifest.is_none(), "{file} should not load");
    }
    // The hints carry the file's own values into the 4.x layout.
    let loaded = load("legacy-3.2.2--mrbayes--scar-mrbayes-batch.yaml");
    let hint = loaded.diagnostics[0].hint.clone().unwrap();
    for want in [
        "name: scar-mrbayes-batch",
        "execution_mode: batch",
        "image: grycap/mrbayes",
        "ITERATIONS: \"10000\"",
        "path: scar-mrbayes",
    ] {
        assert!(hint.contains(want), "missing {want:?} in:\n{hint}");
    }
    let loaded = load("legacy-3.2.2--darknet--scar-darknet-api-bin.yaml");
    let hint = loaded.diagnostics[0].hint.clone().unwrap();
    assert!(
        hint.contains("api_gateway:\n        name: darknet-bin"),
        "{hint}"
    );
}

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn a_workflow_of_several_files_merges_and_catches_duplicates() {
    let dir = corpus();
    let loaded = manifest::load(&[dir.join("imagemagick.yaml"), dir.join("ffmpeg.yaml")]);
    assert_eq!(loaded.error_count(), 0);
    let m = loaded.manifest.unwrap();
    assert_eq!(m.functions.len(), 2);
    // The default workflow name comes from the first file.
    assert!(m.workflow.starts_with("imagemagick-"), "{}", m.workflow);
    let loaded = manifest::load(&[dir.join("imagemagick.yaml"), dir.join("imagemagick.yaml")]);
    assert!(loaded
        .diagnostics
        .iter()
        .any(|d| d.code == "duplicate-function"));
}
