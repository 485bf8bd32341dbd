//! SCAR's own function definitions run unchanged: each example in the shared
//! corpus (`functions.aws[].lambda`, merged with `storage_providers` as SCAR
//! builds `function_config.yaml`) is given a script of the same shape as the
//! example's `init_script` (same variables read and written, same quoting
//! habits: unquoted `$INPUT_FILE_PATH`, backticks, `basename ... .ext`,
//! heredocs into the working folder, `${VAR:=default}`), and the outputs must
//! land where SCAR would put them. The generated `function_config.yaml` in the
//! corpus is used byte for byte.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Stand-ins for the examples' scripts (the real ones call ImageMagick,
/// ffmpeg, darknet or MrBayes; here coreutils play those parts).
fn script_for(name: &str) -> &'static str {
    match name {
        // imagemagick: basename in backticks, unquoted paths, `cat` for the response.
        "grayify-image.sh" => "#! /bin/sh\nFILE_NAME=`basename $INPUT_FILE_PATH`\nOUTPUT_FILE=$TMP_OUTPUT_DIR/$FILE_NAME\ntr 'a-z' 'A-Z' < $INPUT_FILE_PATH > $OUTPUT_FILE\ncat $OUTPUT_FILE\n",
        // ffmpeg: `basename ... .avi`, an unset legacy variable, stdin from /dev/null.
        "grayify-video.sh" => "#! /bin/sh\necho \"SCRIPT: Invoked Video Grayifier. File available in $SCAR_INPUT_FILE\"\nFILENAME=`basename $INPUT_FILE_PATH .avi`\nOUTPUT_FILE=$TMP_OUTPUT_DIR/$FILENAME\ncp $INPUT_FILE_PATH $OUTPUT_FILE.avi < /dev/null\n",
        // darknet: a bash shebang (run with /bin/sh anyway), quoted outputs, `cd` elsewhere.
        "yolo.sh" | "yolo-sample-object-detection.sh" => "#!/bin/bash\nRESULT=\"$TMP_OUTPUT_DIR/result.out\"\nOUTPUT_IMAGE=\"$TMP_OUTPUT_DIR/image-result\"\necho \"SCRIPT: Analyzing file '$INPUT_FILE_PATH', saving the result in '$RESULT'\"\ncd /\nwc -c < $INPUT_FILE_PATH > $RESULT\ncp $INPUT_FILE_PATH $OUTPUT_IMAGE.png\n",
        // video split: many numbered outputs.
        "split-video.sh" => "#! /bin/sh\necho \"SCRIPT: Splitting video file $INPUT_FILE_PATH in images and storing them in $TMP_OUTPUT_DIR\"\nfor i in 1 2 3; do cp $INPUT_FILE_PATH $TMP_OUTPUT_DIR/out00$i.jpg; done < /dev/null\n",
        // mrbayes: a heredoc into the working folder, `${ITERATIONS:=200}`, outputs beside the input.
        "mrbayes-sample-run.sh" => "#!/bin/sh\ncat << EOF > batch.txt\nset autoclose=yes nowarn=yes\nexecute $INPUT_FILE_PATH\nmcmc ngen=${ITERATIONS:=200} savebrlens=yes file=${INPUT_FILE_PATH}1\nquit\nEOF\ncp batch.txt ${INPUT_FILE_PATH}1\ncat batch.txt\n",
        // av-workflow ffmpeg: several outputs, only some pass the filters.
        "ffmpeg-script.sh" => "#!/bin/sh\nfor f in result-audio.wav result-sub.srt other.wav result-notes.txt; do echo \"$KEY1 $f\" > \"$TMP_OUTPUT_DIR/$f\"; done\n",
        // cowsay-ecr: prints its environment and the input.
        "test.sh" => "#!/bin/sh\nenv\ncat ${INPUT_FILE_PATH}\necho \"OK1\"\n",
        other => panic!("no stand-in for {other}"),
    }
}

/// `functions.aws[index].lambda` plus the top-level `storage_providers`, as SCAR writes it.
fn function_config(manifest: &Path, index: usize) -> Value {
    let text = std::fs::read_to_string(manifest).unwrap();
    let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut lambda = doc["functions"]["aws"][index]["lambda"].clone();
    assert!(
        lambda.is_object(),
        "{}: no functions.aws[{index}].lambda",
        manifest.display()
    );
    lambda["storage_providers"] = doc.get("storage_providers").cloned().unwrap_or(Value::Null);
    lambda
}

fn buckets_of(config: &Value) -> BTreeSet<String> {
    ["input", "output"]
        .iter()
        .flat_map(|k| config[k].as_array().cloned().unwrap_or_default())
        .filter_map(|io| {
            io["path"]
                .as_str()
                .map(|p| p.split('/').next().unwrap().to_string())
        })
        .collect()
}

struct Case {
    manifest: &'static str,
    index: usize,
    /// The uploaded object, relative to the input path.
    input: &'static str,
    /// Keys expected in the output buckets afterwards (besides the input).
    outputs: &'static [&'static str],
}

const CASES: &[Case] = &[
    // No spaces here: the examples leave $INPUT_FILE_PATH unquoted, as in SCAR.
    Case {
        manifest: "imagemagick.yaml",
        index: 0,
        input: "cat.jpg",
        outputs: &["scar-imagemagick/output/cat.jpg"],
    },
    Case {
        manifest: "ffmpeg.yaml",
        index: 0,
        input: "clip.avi",
        outputs: &["scar-ffmpeg/output/clip.avi"],
    },
    Case {
        manifest: "darknet--scar-darknet.yaml",
        index: 0,
        input: "dog.jpg",
        outputs: &[
            "scar-darknet/output/image-result.png",
            "scar-darknet/output/result.out",
        ],
    },
    Case {
        manifest: "video-process.yaml",
        index: 0,
        input: "seq.mp4",
        outputs: &[
            "scar-video/split-images/out001.jpg",
            "scar-video/split-images/out002.jpg",
            "scar-video/split-images/out003.jpg",
        ],
    },
    Case {
        manifest: "video-process.yaml",
        index: 1,
        input: "out001.jpg",
        outputs: &[
            "scar-video/output/image-result.png",
            "scar-video/output/result.out",
        ],
    },
    Case {
        manifest: "mrbayes.yaml",
        index: 0,
        input: "primates.nex",
        outputs: &[],
    },
    Case {
        manifest: "_root--fdl-example.yaml",
        index: 0,
        input: "song.mp4",
        outputs: &[
            "my-bucket/test-output/result-audio.wav",
            "my-bucket/test-output/result-sub.srt",
        ],
    },
];

#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn scar_examples_run_unchanged() {
    let corpus = testkit::shared_path("corpus/scar-examples");
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    for case in CASES {
        moto.reset();
        let config = function_config(&corpus.join(case.manifest), case.index);
        let init = config["init_script"].as_str().unwrap().to_string();
        let input_path = config["input"][0]["path"].as_str().unwrap().to_string();
        let (bucket, folder) = input_path.split_once('/').unwrap();
        let key = format!("{folder}/{}", case.input);
        rt.block_on(async {
            for b in buckets_of(&config) {
                create_bucket(&s3c, &b).await;
            }
            put(&s3c, bucket, &key, b"pixels").await;
        });
        let yaml = serde_yaml_ng::to_string(&config).unwrap();
        let f = Function::new(&yaml).with_script(&init, script_for(&init));
        let encoded = key.replace(' ', "+");
        // LOG_LEVEL=DEBUG prints the parsed config: its secrets must stay hidden.
        let run = f.run_with(
            Some(&moto),
            &s3_event(bucket, &encoded),
            &[("LOG_LEVEL", "DEBUG")],
        );
        run.assert_ok();
        for secret in ["awskey", "mpass"] {
            assert!(
                !run.stderr.contains(secret),
                "{}: secret in the log",
                case.manifest
            );
        }
        let mut found = Vec::new();
        rt.block_on(async {
            for b in buckets_of(&config) {
                for k in keys(&s3c, &b).await {
                    if !(b == bucket && k == key) {
                        found.push(format!("{b}/{k}"));
                    }
                }
            }
        });
        found.sort();
        assert_eq!(
            found, case.outputs,
            "{} (function {})",
            case.manifest, case.index
        );
        match init.as_str() {
            "grayify-image.sh" => assert_eq!(run.body_text(), "PIXELS"),
            "mrbayes-sample-run.sh" => {
                let body = run.body_text();
                assert!(
                    body.contains("mcmc ngen=200 savebrlens=yes file=/"),
                    "{body}"
                );
                assert!(body.contains("/input/primates.nex1"), "{body}");
            }
            _ => {}
        }
        assert!(f.leftovers().is_empty(), "{}", case.manifest);
    }
}

/// The generated `function_config.yaml` from SCAR's cowsay-ecr example, verbatim.
#[test]
#[cfg_attr(
    scar_shared_missing,
    ignore = "../shared is missing beside the checkout (not under CI): not run here"
)]
fn scar_generated_function_config_runs_test_sh() {
    let corpus = testkit::shared_path("corpus/scar-examples");
    let yaml = std::fs::read_to_string(corpus.join("cowsay-ecr--function_config.yaml")).unwrap();
    let f = Function::new(&yaml).with_script("test.sh", script_for("test.sh"));
    let run = f.run(None, "{\"message\": \"moo\"}");
    run.assert_ok();
    let body = run.body_text();
    assert!(body.ends_with("{\"message\": \"moo\"}OK1\n"), "{body}");
    assert!(body.contains("\nTMP_OUTPUT_DIR=/"), "{body}");
    // log_level: DEBUG in that file is honoured.
    assert!(run.stderr.contains("DEBUG"), "{}", run.stderr);
}

/// The variables scripts read, with the values SCAR gives them.
#[test]
fn script_sees_the_documented_environment() {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    runtime().block_on(async {
        create_bucket(&s3c, "env-in").await;
        put(&s3c, "env-in", "in/sub dir/file name.txt", b"x").await;
    });
    let f = Function::new(
        "name: envfn\ninit_script: env.sh\ncontainer:\n  environment:\n    Variables: {ITERATIONS: 50, MODE: fast, TMP_OUTPUT_DIR: overridden}\n",
    )
    .with_script("env.sh", "env -0\n");
    let event = s3_event("env-in", "in/sub+dir/file+name.txt");
    let run = f.run_with(Some(&moto), &event, &[("AWS_LAMBDA_REQUEST_ID", "req-env")]);
    run.assert_ok();
    let env = env_map(&run.body());
    let input_dir = &env["TMP_INPUT_DIR"];
    assert_eq!(env["INPUT_FILE_PATH"], format!("{input_dir}/file name.txt"));
    let root = Path::new(input_dir).parent().unwrap();
    assert_eq!(
        env["TMP_OUTPUT_DIR"],
        root.join("output").display().to_string()
    );
    assert!(root.starts_with(f.tmp.path()), "{}", root.display());
    assert_eq!(env["STORAGE_OBJECT_KEY"], "in/sub dir/file name.txt");
    assert_eq!(env["STORAGE_BUCKET"], "env-in");
    assert_eq!(env["EVENT_TIME"], "2026-11-27T08:00:00.000Z");
    assert_eq!(
        serde_json::from_str::<Value>(&env["EVENT"]).unwrap(),
        serde_json::from_str::<Value>(&event).unwrap()
    );
    assert_eq!(env["REQUEST_ID"], "req-env");
    assert_eq!(env["ITERATIONS"], "50");
    assert_eq!(env["MODE"], "fast");
    // The function's own credentials reach the script (scripts call the AWS CLI).
    assert_eq!(env["AWS_ACCESS_KEY_ID"], "testing");
    assert!(f.leftovers().is_empty());

    // file_stage_in: true skips the download; the key is still there.
    let f = Function::new("name: envfn\ninit_script: env.sh\nfile_stage_in: true\n")
        .with_script("env.sh", "env -0\n");
    let run = f.run(Some(&moto), &event);
    run.assert_ok();
    let env = env_map(&run.body());
    assert!(!env.contains_key("INPUT_FILE_PATH"));
    assert_eq!(env["STORAGE_OBJECT_KEY"], "in/sub dir/file name.txt");
    let input_dir = Path::new(&env["TMP_INPUT_DIR"]);
    assert!(input_dir.starts_with(f.tmp.path()));
}

/// `init_script` is found beside a config given by a relative path, although
/// the script itself runs in the invocation's folder.
#[test]
fn init_script_beside_a_relative_config_path() {
    let f = Function::new("name: rel\ninit_script: hello.sh\n")
        .with_script("hello.sh", "echo hello from $(basename \"$PWD\")\n");
    let mut cmd = f.command(None);
    cmd.current_dir(f.dir.path())
        .env("SCAR_FUNCTION_CONFIG_PATH", "function_config.yaml");
    let run = run_stdin(cmd, b"{}");
    run.assert_ok();
    assert!(
        run.body_text().starts_with("hello from scar-"),
        "{}",
        run.body_text()
    );
}
