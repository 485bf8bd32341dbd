//! Image functions through the `scar` binary against the AWS emulator
//! (moto: Lambda, S3, IAM, ECR's control plane) and a real OCI registry
//! (Debian's `docker-registry` on 127.0.0.1), which `registries.conf`
//! makes stand in for Docker Hub's `grycap/…` and for the account's ECR
//! registry (moto has no registry data plane). Base images are pushed with
//! oci-client alone (`testkit::image`); what the registry and the account
//! hold afterwards is read back with oci-client and the AWS SDK, never
//! through scar's code. The supervisor put into the images is the static
//! build (`testkit::static_supervisor`).

mod common;
use common::{out, stdout};

use serde_json::json;
use testkit::image::{self, Image};

use common::images::{ImageEnv, ImageEnv as Env, ECR};
use testkit::registry::Registry;

/// A workflow of one function `resize` on `grycap/<base>`, reading bucket `in`.
fn manifest(base: &str) -> String {
    format!(
        "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: resize\n      init_script: script.sh\n      container:\n        image: grycap/{base}\n      input:\n      - storage_provider: s3\n        path: images-in/input\n      output:\n      - storage_provider: s3\n        path: images-out/output\n"
    )
}

async fn ecr(env: &Env) -> aws_sdk_ecr::Client {
    aws_sdk_ecr::Client::new(&env.scratch.sdk().await)
}

async fn lambda(env: &Env) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&env.scratch.sdk().await)
}

/// (package type, image URI) of a function, `None` if it does not exist.
async fn function_image(l: &aws_sdk_lambda::Client, name: &str) -> Option<(String, String)> {
    let f = l.get_function().function_name(name).send().await.ok()?;
    let c = f.configuration()?;
    Some((
        c.package_type()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        f.code()
            .and_then(|c| c.image_uri())
            .unwrap_or_default()
            .to_string(),
    ))
}

async fn repository_exists(e: &aws_sdk_ecr::Client, name: &str) -> bool {
    e.describe_repositories()
        .repository_names(name)
        .send()
        .await
        .is_ok()
}

/// The digest the function runs (after `@` in its image URI).
fn digest_of(uri: &str) -> String {
    uri.rsplit_once('@')
        .expect("an image URI by digest")
        .1
        .to_string()
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn an_image_function_is_pushed_created_kept_updated_for_a_new_script_and_a_moved_base_and_destroyed(
) {
    let env = Env::new();
    let host = env.host();
    let base = env.push_base("imagemagick", "latest", 1, 3);
    let (base_manifest, _) = image::manifest(&host, "grycap/imagemagick", &base).unwrap();
    env.scratch.write(
        "script.sh",
        "#!/bin/sh\nconvert \"$INPUT_FILE_PATH\" out.png\n",
    );
    env.scratch.write("scar.yaml", &manifest("imagemagick"));

    // Plan: the repository, the image and an image function.
    let o = env.ok(&["plan"]);
    let text = stdout(&o);
    common::assert_lines(
        &text,
        &[
            "ecr_repository.resize",
            "function_image.resize",
            "is not in the function's repository yet",
            "lambda_function.resize",
        ],
    );
    assert!(
        image::tags(&host, "resize").is_empty(),
        "a plan pushes nothing"
    );

    // Apply: repository created, image pushed with one layer on the base's,
    // the function created at that digest.
    env.ok(&["apply", "--auto-approve"]);
    let e = ecr(&env).await;
    assert!(repository_exists(&e, "resize").await);
    let l = lambda(&env).await;
    let (kind, uri) = function_image(&l, "resize").await.expect("function f");
    assert_eq!(kind, "Image");
    assert!(uri.starts_with(&format!("{ECR}/resize@sha256:")), "{uri}");
    let digest = digest_of(&uri);
    let tag = format!("scar-{}", digest.trim_start_matches("sha256:"));
    assert_eq!(image::tags(&host, "resize"), std::slice::from_ref(&tag));
    let (pushed, got) = image::manifest(&host, "resize", &tag).unwrap();
    assert_eq!(got, digest, "the tag names the digest the function runs");
    let base_layers = base_manifest["layers"].as_array().unwrap();
    let layers = pushed["layers"].as_array().unwrap();
    assert_eq!(layers.len(), base_layers.len() + 1, "{pushed}");
    assert_eq!(&layers[..base_layers.len()], &base_layers[..]);

    // Plan again: nothing to do, nothing pushed.
    let o = env.ok(&["plan", "--detailed-exitcode"]);
    assert!(stdout(&o).contains("No changes"), "{}", out(&o));
    let o = env.ok(&["apply", "--auto-approve"]);
    assert!(!stdout(&o).contains("function_image"), "{}", out(&o));
    assert_eq!(image::tags(&host, "resize"), std::slice::from_ref(&tag));

    // A new script: a new digest, shown as the script's change, and a code update.
    env.scratch.write(
        "script.sh",
        "#!/bin/sh\nconvert -resize 50% \"$INPUT_FILE_PATH\" out.png\n",
    );
    let o = env.expect(2, &["plan", "--detailed-exitcode"]);
    let text = stdout(&o);
    common::assert_lines(
        &text,
        &[
            "function_image.resize",
            "script",
            "lambda_function.resize",
            "image_uri",
        ],
    );
    assert!(!text.contains("base_digest"), "{text}");
    env.ok(&["apply", "--auto-approve"]);
    let (_, uri2) = function_image(&l, "resize").await.unwrap();
    let digest2 = digest_of(&uri2);
    assert_ne!(digest2, digest);
    assert_eq!(image::tags(&host, "resize").len(), 2);

    // The base tag moves: the plan says so.
    let moved = env.push_base("imagemagick", "latest", 10, 2);
    assert_ne!(moved, base);
    let o = env.expect(2, &["plan", "--detailed-exitcode"]);
    let text = stdout(&o);
    common::assert_lines(
        &text,
        &["function_image.resize", "base_digest", &base, &moved],
    );
    assert!(!text.contains("script:"), "{text}");
    env.ok(&["apply", "--auto-approve"]);
    let (_, uri3) = function_image(&l, "resize").await.unwrap();
    assert_ne!(digest_of(&uri3), digest2);
    let (pushed, _) = image::manifest(&host, "resize", &digest_of(&uri3)).unwrap();
    assert_eq!(pushed["layers"].as_array().unwrap().len(), 3);

    // Destroy: the function and its repository (with scar's images) go.
    env.ok(&["destroy", "--auto-approve"]);
    assert!(function_image(&l, "resize").await.is_none());
    assert!(!repository_exists(&e, "resize").await);
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn a_zip_function_given_an_image_is_replaced_and_a_repository_holding_foreign_images_is_kept()
{
    let env = Env::new();
    env.push_base("cowsay", "latest", 20, 1);
    env.scratch.write("script.sh", "#!/bin/sh\necho moo\n");
    let zip = "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: cowsay\n      init_script: script.sh\n";
    env.scratch.write("scar.yaml", zip);
    env.ok(&["apply", "--auto-approve"]);
    let l = lambda(&env).await;
    assert_eq!(function_image(&l, "cowsay").await.unwrap().0, "Zip");

    env.scratch.write(
        "scar.yaml",
        &format!("{zip}      container:\n        image: grycap/cowsay\n"),
    );
    let o = env.expect(2, &["plan", "--detailed-exitcode"]);
    let text = stdout(&o);
    common::assert_lines(&text, &["-/+ lambda_function \"cowsay\"", "package_type"]);
    env.ok(&["apply", "--auto-approve"]);
    let (kind, uri) = function_image(&l, "cowsay").await.unwrap();
    assert_eq!(kind, "Image");
    assert!(uri.starts_with(&format!("{ECR}/cowsay@sha256:")), "{uri}");

    // Someone else's image in the repository (through ECR's control plane):
    // destroy keeps the repository, and says why.
    let e = ecr(&env).await;
    let foreign = serde_json::to_string(&json!({
        "schemaVersion": 2, "mediaType": image::MANIFEST,
        "config": {"mediaType": image::CONFIG, "digest": image::digest(b"{}"), "size": 2},
        "layers": [],
    }))
    .unwrap();
    e.put_image()
        .repository_name("cowsay")
        .image_manifest(foreign)
        .image_tag("theirs")
        .send()
        .await
        .unwrap();
    let o = env.ok(&["destroy", "--auto-approve"]);
    assert!(function_image(&l, "cowsay").await.is_none());
    assert!(repository_exists(&e, "cowsay").await, "{}", out(&o));
    assert!(out(&o).contains("theirs"), "{}", out(&o));
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn bad_images_are_refused_at_plan_time_before_any_change() {
    let env = Env::new();
    let host = env.host();
    env.push_base("imagemagick", "1.0", 30, 1);
    // An index with only arm64.
    let arm = Image {
        layers: vec![image::random_layer(40, "a", 64)],
        run: json!({}),
        arch: "arm64".into(),
    };
    let (d, size) = image::push(&host, "grycap/armonly", "m", &arm);
    image::push_index(
        &host,
        "grycap/armonly",
        "latest",
        &[(d, size, "linux/arm64")],
    );
    env.scratch.write("script.sh", "#!/bin/sh\ntrue\n");
    let cases: &[(&str, &[&str])] = &[
        (
            "nosuchimage",
            &["grycap/nosuchimage", "is not in the registry", "hint:"],
        ),
        (
            "imagemagick:9.9",
            &["grycap/imagemagick:9.9", "is not in the registry"],
        ),
        ("armonly", &["linux/amd64", "it has: linux/arm64"]),
    ];
    for (base, says) in cases {
        env.scratch.write("scar.yaml", &manifest(base));
        let o = env.expect(1, &["plan"]);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(err.contains("function `resize`"), "{err}");
        for s in *says {
            assert!(err.contains(s), "{base}: missing {s:?} in:\n{err}");
        }
        let o = env.expect(1, &["apply", "--auto-approve"]);
        assert!(!out(&o).contains("created"), "{}", out(&o));
    }
    // The registry unreachable: a closed port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    env.scratch.write(
        "registries.conf",
        &format!("[[registry]]\nprefix = \"docker.io/grycap\"\nlocation = \"127.0.0.1:{closed}/grycap\"\ninsecure = true\n"),
    );
    env.scratch.write("scar.yaml", &manifest("imagemagick:1.0"));
    let o = env.expect(1, &["plan"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains(&format!("cannot reach the registry 127.0.0.1:{closed}")),
        "{err}"
    );
    // A supervisor that would not start in an image (dynamically linked).
    let o = env
        .command(&["plan", "--supervisor", env!("CARGO_BIN_EXE_scar")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("dynamically linked") && err.contains("hint:"),
        "{err}"
    );
    // Nothing was created by any of it.
    let l = lambda(&env).await;
    assert!(function_image(&l, "resize").await.is_none());
    assert!(!repository_exists(&ecr(&env).await, "resize").await);
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn an_ecr_image_without_create_image_runs_as_it_is_by_digest() {
    let env = ImageEnv::new();
    // Someone's image in the account's ECR registry (the stand-in's `theirs`).
    let v1 = env.push_image("theirs", "1", 50, 2);
    env.scratch.write(
        "scar.yaml",
        &format!("workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: asis\n      container:\n        image: {ECR}/theirs:1\n"),
    );
    let o = env.ok(&["plan"]);
    let text = stdout(&o);
    assert!(
        !text.contains("ecr_repository") && !text.contains("function_image"),
        "{text}"
    );
    env.ok(&["apply", "--auto-approve"]);
    let l = lambda(&env).await;
    let (kind, uri) = function_image(&l, "asis").await.unwrap();
    assert_eq!(kind, "Image");
    assert_eq!(uri, format!("{ECR}/theirs@{v1}"));
    let o = env.ok(&["plan", "--detailed-exitcode"]);
    assert!(stdout(&o).contains("No changes"), "{}", out(&o));
    // Their tag moves: the function follows it at the next apply, by digest.
    let v2 = env.push_image("theirs", "1", 60, 1);
    let o = env.expect(2, &["plan", "--detailed-exitcode"]);
    common::assert_lines(&stdout(&o), &["lambda_function.asis", "image_uri", &v2]);
    env.ok(&["apply", "--auto-approve"]);
    assert_eq!(
        function_image(&l, "asis").await.unwrap().1,
        format!("{ECR}/theirs@{v2}")
    );
    env.ok(&["destroy", "--auto-approve"]);
    assert!(function_image(&l, "asis").await.is_none());
    assert_eq!(
        image::tags(&env.host(), "theirs"),
        ["1"],
        "their image is left alone"
    );
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn an_image_file_that_is_not_an_image_archive_is_refused_at_plan_time() {
    let env = ImageEnv::new();
    env.scratch
        .write("notes.tar.gz", "these are notes, not an image\n");
    env.scratch.write(
        "scar.yaml",
        "workflow: wf\nfunctions:\n  aws:\n  - lambda:\n      name: minicow\n      container:\n        image_file: notes.tar.gz\n",
    );
    let o = env.expect(1, &["apply", "--auto-approve"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    common::assert_lines(
        &err,
        &[
            "function `minicow`",
            "`notes.tar.gz` is not an image archive",
            "hint: save one with `docker save",
        ],
    );
    let l = lambda(&env).await;
    assert!(function_image(&l, "minicow").await.is_none());
    assert!(!repository_exists(&ecr(&env).await, "minicow").await);
}

#[cfg_attr(
    scar_no_registry,
    ignore = "docker-registry is not installed (apt-get install docker-registry); CI installs it"
)]
#[tokio::test(flavor = "multi_thread")]
async fn a_private_registry_takes_the_docker_login_and_a_refused_one_is_an_error_at_plan_time() {
    use base64::Engine as _;
    let env = ImageEnv::new();
    let private = Registry::start_with_login("alice", "s3cret-pass");
    let host = private.host();
    let img = Image {
        layers: vec![image::random_layer(70, "p", 256)],
        run: json!({"Env": ["PATH=/bin"]}),
        arch: "amd64".into(),
    };
    image::push_as(
        &host,
        "grycap/private",
        "1",
        &img,
        Some(("alice", "s3cret-pass")),
    );
    env.scratch.write(
        "registries.conf",
        &format!(
            "[[registry]]\nprefix = \"docker.io/grycap\"\nlocation = \"{host}/grycap\"\ninsecure = true\n\n\
             [[registry]]\nprefix = \"{ECR}\"\nlocation = \"{}\"\ninsecure = true\n",
            env.host()
        ),
    );
    env.scratch.write("scar.yaml", &manifest("private:1"));
    env.scratch.write("script.sh", "#!/bin/sh\ntrue\n");
    let login = |password: &str| {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("alice:{password}"));
        env.scratch.write(
            "docker/config.json",
            &format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#),
        );
    };
    // No login, then a wrong one: refused, with the hint, before any change.
    for wrong in [None, Some("wrong-pass")] {
        match wrong {
            Some(p) => login(p),
            None => {
                let _ = std::fs::remove_file(env.scratch.path().join("docker/config.json"));
            }
        }
        let o = env.expect(1, &["plan"]);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        common::assert_lines(
            &err,
            &[
                &format!("the registry {host} refused access"),
                "docker login",
            ],
        );
        assert!(
            !err.contains("wrong-pass") && !err.contains("s3cret"),
            "{err}"
        );
    }
    login("s3cret-pass");
    let o = env.ok(&["plan"]);
    assert!(stdout(&o).contains("function_image.resize"), "{}", out(&o));
    assert!(!out(&o).contains("s3cret"), "{}", out(&o));
    let l = lambda(&env).await;
    assert!(function_image(&l, "resize").await.is_none());
}
