//! `scar local invoke` end to end, with real parts only: the function's
//! image is assembled on a base image pushed to a real registry
//! (Debian's `docker-registry` on 127.0.0.1, reached through a
//! `registries.conf` that maps Docker Hub's `grycap/` to it), its root
//! unpacked and run with bubblewrap, the static supervisor serving an S3
//! event through scar's Runtime API against moto, reaching S3 by IP, by a
//! name in the image's `/etc/hosts`, and by a name a dnsmasq answers
//! through the image's `/etc/resolv.conf`. The base images: busybox-static
//! (no C library at all) and a glibc one made of this machine's dash and
//! coreutils with the libraries `ldd` names.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use common::{out, Scratch};
use testkit::dns::Dnsmasq;
use testkit::registry::Registry;
use testkit::rootfs::{require_tool, RootFs};

/// The static supervisor, built once per test binary.
fn supervisor() -> &'static Path {
    testkit::static_supervisor(Path::new(env!("CARGO_BIN_EXE_scar")))
}

const SCRIPT: &str = r#"name=$(basename "$INPUT_FILE_PATH")
tr 'a-z' 'A-Z' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name"
echo "$name in $(cat /etc/image-id)"
"#;

/// One emulator, one registry, a `registries.conf` and a manifest.
struct Local {
    scratch: Scratch,
    registry: Registry,
    conf: PathBuf,
}

impl Local {
    fn new() -> Local {
        let scratch = Scratch::new();
        let registry = Registry::start();
        let host = registry.host();
        let conf = scratch.write(
            "registries.conf",
            &format!(
                "[[registry]]\nprefix = \"docker.io/grycap\"\nlocation = \"{host}/grycap\"\ninsecure = true\n"
            ),
        );
        Local {
            scratch,
            registry,
            conf,
        }
    }

    /// Pushes the folder `root` as `grycap/<name>:latest`; its digest.
    fn push_base(&self, name: &str, root: &Path) -> String {
        let image = testkit::image::Image::of_dir(root);
        testkit::image::push(
            &self.registry.host(),
            &format!("grycap/{name}"),
            "latest",
            &image,
        )
        .0
    }

    /// `scar.yaml`: function `upper` on `grycap/<base>`, S3 in and out, and
    /// `plain`, without an image.
    fn manifest(&self, base: &str) {
        self.scratch.write("upper.sh", SCRIPT);
        self.scratch.write(
            "scar.yaml",
            &format!(
                "workflow: local\nfunctions:\n  aws:\n  - lambda:\n      name: upper\n      timeout: 60\n      init_script: upper.sh\n      container:\n        image: grycap/{base}\n      input:\n      - storage_provider: s3\n        path: loc-in\n      output:\n      - storage_provider: s3\n        path: loc-out/results\n  - lambda:\n      name: plain\n      init_script: upper.sh\n"
            ),
        );
    }

    /// `scar <args>` with the registries, the supervisor, and `PATH`.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.scratch.command(args);
        cmd.env("CONTAINERS_REGISTRIES_CONF", &self.conf)
            .env("SCAR_SUPERVISOR", supervisor());
        cmd
    }

    fn scar(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run scar")
    }

    /// Buckets `loc-in` (holding `photos/a b.txt`) and `loc-out`.
    fn buckets(&self, content: &[u8]) {
        runtime().block_on(async {
            let s3 = common::s3(&self.scratch.sdk().await);
            for b in ["loc-in", "loc-out"] {
                s3.create_bucket().bucket(b).send().await.unwrap();
            }
            s3.put_object()
                .bucket("loc-in")
                .key("photos/a b.txt")
                .body(content.to_vec().into())
                .send()
                .await
                .unwrap();
        });
    }

    /// The object `key` of `loc-out`, if there.
    fn output(&self, key: &str) -> Option<Vec<u8>> {
        runtime().block_on(async {
            let s3 = common::s3(&self.scratch.sdk().await);
            let o = s3
                .get_object()
                .bucket("loc-out")
                .key(key)
                .send()
                .await
                .ok()?;
            Some(o.body.collect().await.unwrap().into_bytes().to_vec())
        })
    }

    /// Invokes `upper` on the S3 object with `extra` arguments; asserts
    /// the answer on stdout and the output object in moto.
    fn invoke_and_check(&self, image_id: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "local",
            "invoke",
            "upper",
            "--s3",
            "s3://loc-in/photos/a b.txt",
        ];
        args.extend_from_slice(extra);
        let o = self.scar(&args);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        let answer: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("stdout is not the answer JSON ({e}):\n{}", out(&o)));
        assert_eq!(answer["statusCode"], 200, "{answer}");
        let body = base64::engine::general_purpose::STANDARD
            .decode(answer["body"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&body),
            format!("a b.txt in {image_id}\n"),
            "{}",
            out(&o)
        );
        assert_eq!(
            self.output("results/a b.txt").as_deref(),
            Some(&b"LOCAL DATA"[..]),
            "{}",
            out(&o)
        );
        o
    }

    /// `SCAR_CACHE_DIR/images/rootfs`.
    fn roots(&self) -> PathBuf {
        self.scratch.moto.cache_dir().join("images").join("rootfs")
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A busybox-static root saying who it is in `/etc/image-id`, with the
/// given `/etc/hosts` and `/etc/resolv.conf`.
fn busybox_root(hosts: Option<&str>, resolv: Option<&str>) -> RootFs {
    let root = RootFs::busybox();
    root.write("etc/image-id", "busybox-static");
    if let Some(h) = hosts {
        root.write("etc/hosts", h);
    }
    if let Some(r) = resolv {
        root.write("etc/resolv.conf", r);
    }
    root
}

/// A root of this machine's glibc programs: dash as `/bin/sh`, `tr`,
/// `cat` and `basename`, each with the libraries and loader `ldd` names.
fn glibc_root(dir: &Path) {
    let programs = [
        (require_tool("dash", "dash"), "bin/sh"),
        (require_tool("tr", "coreutils"), "bin/tr"),
        (require_tool("cat", "coreutils"), "bin/cat"),
        (require_tool("basename", "coreutils"), "bin/basename"),
    ];
    let copy = |from: &Path, rel: &str| {
        let to = dir.join(rel.trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    };
    for (program, rel) in &programs {
        copy(program, rel);
        let ldd = Command::new("ldd").arg(program).output().expect("run ldd");
        for line in String::from_utf8_lossy(&ldd.stdout).lines() {
            // `libc.so.6 => /lib/…/libc.so.6 (0x…)` or `/lib64/ld-linux… (0x…)`
            let path = match line.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next(),
                None => line.split_whitespace().next(),
            };
            if let Some(p) = path.filter(|p| p.starts_with('/')) {
                copy(Path::new(p), p);
            }
        }
    }
    for d in ["etc", "tmp"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("etc/image-id"), "glibc-dash").unwrap();
}

#[test]
#[cfg_attr(
    scar_no_registry,
    ignore = "needs Debian's docker-registry (apt-get install docker-registry); .ci/run installs it"
)]
#[cfg_attr(
    scar_no_sandbox_tools,
    ignore = "needs bwrap, busybox-static and dnsmasq (apt-get install bubblewrap busybox-static dnsmasq-base; then `touch build.rs`); runs and fails under CI=true"
)]
fn an_s3_event_is_processed_in_the_busybox_image_and_its_root_is_cached_by_digest() {
    let local = Local::new();
    let root = busybox_root(None, None);
    let digest = local.push_base("busybox", root.path());
    local.manifest("busybox");
    local.buckets(b"local data");
    let o = local.invoke_and_check("busybox-static", &[]);
    // The answer alone on stdout; the supervisor's logs on stderr.
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().count(),
        1,
        "{}",
        out(&o)
    );
    // The root is cached under the base's digest, complete, nothing half done.
    let hex = digest.strip_prefix("sha256:").unwrap();
    let entries: Vec<String> = std::fs::read_dir(local.roots())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, [hex.to_string()]);
    let cached = local.roots().join(hex);
    assert!(cached.join("bin/busybox").is_file());
    let unpacked_at = std::fs::metadata(cached.join("bin/busybox"))
        .unwrap()
        .modified()
        .unwrap();
    // A second run uses it as it is.
    local.invoke_and_check("busybox-static", &[]);
    assert_eq!(
        std::fs::metadata(cached.join("bin/busybox"))
            .unwrap()
            .modified()
            .unwrap(),
        unpacked_at
    );
}

#[test]
#[cfg_attr(
    scar_no_registry,
    ignore = "needs Debian's docker-registry (apt-get install docker-registry); .ci/run installs it"
)]
#[cfg_attr(
    scar_no_sandbox_tools,
    ignore = "needs bwrap, busybox-static and dnsmasq (apt-get install bubblewrap busybox-static dnsmasq-base; then `touch build.rs`); runs and fails under CI=true"
)]
fn an_s3_event_is_processed_in_a_glibc_image() {
    let local = Local::new();
    let dir = tempfile::tempdir().unwrap();
    glibc_root(dir.path());
    local.push_base("glibc", dir.path());
    local.manifest("glibc");
    local.buckets(b"local data");
    local.invoke_and_check("glibc-dash", &[]);
}

#[test]
#[cfg_attr(
    scar_no_registry,
    ignore = "needs Debian's docker-registry (apt-get install docker-registry); .ci/run installs it"
)]
#[cfg_attr(
    scar_no_sandbox_tools,
    ignore = "needs bwrap, busybox-static and dnsmasq (apt-get install bubblewrap busybox-static dnsmasq-base; then `touch build.rs`); runs and fails under CI=true"
)]
fn the_s3_endpoint_is_found_by_a_name_in_the_images_etc_hosts() {
    let local = Local::new();
    // A Kubernetes-style name: moto reads other dotted hosts as buckets.
    let name = "s3.hosts.svc.cluster.local";
    let root = busybox_root(
        Some(&format!("127.0.0.1 localhost\n127.0.0.1 {name}\n")),
        None,
    );
    local.push_base("busybox-hosts", root.path());
    local.manifest("busybox-hosts");
    local.buckets(b"local data");
    let endpoint = format!(
        "AWS_ENDPOINT_URL=http://{name}:{}",
        local.scratch.moto.port()
    );
    local.invoke_and_check("busybox-static", &["--env", &endpoint]);
}

#[test]
#[cfg_attr(
    scar_no_registry,
    ignore = "needs Debian's docker-registry (apt-get install docker-registry); .ci/run installs it"
)]
#[cfg_attr(
    scar_no_sandbox_tools,
    ignore = "needs bwrap, busybox-static and dnsmasq (apt-get install bubblewrap busybox-static dnsmasq-base; then `touch build.rs`); runs and fails under CI=true"
)]
#[cfg_attr(
    scar_dns_port_unavailable,
    ignore = "needs root to run dnsmasq on port 53 of a loopback address (resolv.conf cannot name a port); runs and fails under CI=true"
)]
fn the_s3_endpoint_is_found_by_a_name_through_the_images_resolv_conf() {
    let name = "s3.dns.svc.cluster.local";
    let dns = Dnsmasq::start(31, &[name]);
    let local = Local::new();
    // The name is in DNS only, not in the image's /etc/hosts.
    let root = busybox_root(
        Some("127.0.0.1 localhost\n"),
        Some(&format!("nameserver {}\noptions timeout:2\n", dns.address)),
    );
    local.push_base("busybox-dns", root.path());
    local.manifest("busybox-dns");
    local.buckets(b"local data");
    let endpoint = format!(
        "AWS_ENDPOINT_URL=http://{name}:{}",
        local.scratch.moto.port()
    );
    local.invoke_and_check("busybox-static", &["--env", &endpoint]);
}

#[test]
#[cfg_attr(
    scar_no_registry,
    ignore = "needs Debian's docker-registry (apt-get install docker-registry); .ci/run installs it"
)]
#[cfg_attr(
    scar_no_sandbox_tools,
    ignore = "needs bwrap, busybox-static and dnsmasq (apt-get install bubblewrap busybox-static dnsmasq-base; then `touch build.rs`); runs and fails under CI=true"
)]
fn the_shell_opens_in_the_same_read_only_root_with_the_function_in_var_task() {
    let local = Local::new();
    let root = busybox_root(None, None);
    local.push_base("busybox", root.path());
    local.manifest("busybox");
    let mut cmd = local.command(&["local", "invoke", "upper", "--shell"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"cat /etc/image-id; echo; ls /var/task; touch /x 2>/dev/null || echo root-read-only; touch /tmp/y && echo tmp-writable; exit 3\n",
    )
    .unwrap();
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    for line in [
        "busybox-static",
        "function_config.yaml",
        "supervisor",
        "upper.sh",
        "root-read-only",
        "tmp-writable",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?}:\n{}", out(&o));
    }
    // The shell's failure is scar's.
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
}

#[test]
fn without_a_runtime_on_path_the_error_names_bubblewrap_and_a_function_without_image_is_refused() {
    let scratch = Scratch::new();
    scratch.write("upper.sh", SCRIPT);
    scratch.write(
        "scar.yaml",
        "workflow: local\nfunctions:\n  aws:\n  - lambda:\n      name: upper\n      init_script: upper.sh\n      container:\n        image: grycap/busybox\n  - lambda:\n      name: plain\n      init_script: upper.sh\n",
    );
    let empty = tempfile::tempdir().unwrap();
    let o = scratch
        .command(&["local", "invoke", "upper"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no rootless container runtime"), "{}", out(&o));
    assert!(err.contains("apt-get install bubblewrap"), "{}", out(&o));
    assert!(o.stdout.is_empty(), "{}", out(&o));

    let o = scratch.scar(&["local", "invoke", "plain"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("function `plain` runs on the supervisor layer, not an image"),
        "{}",
        out(&o)
    );

    let o = scratch.scar(&["local", "invoke", "nobody"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("the functions are: plain, upper"),
        "{}",
        out(&o)
    );
}

#[test]
#[cfg_attr(
    scar_no_registry,
    ignore = "needs Debian's docker-registry (apt-get install docker-registry); .ci/run installs it"
)]
#[cfg_attr(
    scar_no_sandbox_tools,
    ignore = "needs bwrap, busybox-static and dnsmasq (apt-get install bubblewrap busybox-static dnsmasq-base; then `touch build.rs`); runs and fails under CI=true"
)]
fn a_failing_script_is_the_functions_error_and_scar_exits_1() {
    let local = Local::new();
    let root = busybox_root(None, None);
    local.push_base("busybox", root.path());
    local.manifest("busybox");
    local.scratch.write("upper.sh", "echo broken >&2\nexit 7\n");
    local.buckets(b"local data");
    let o = local.scar(&[
        "local",
        "invoke",
        "upper",
        "--s3",
        "s3://loc-in/photos/a b.txt",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not the error document ({e}):\n{}", out(&o)));
    assert!(doc["errorType"].is_string(), "{doc}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("function `upper` failed"),
        "{}",
        out(&o)
    );
    assert_eq!(local.output("results/a b.txt"), None);
}
