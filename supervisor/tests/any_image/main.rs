//! The supervisor as one executable that needs nothing from the image: the
//! static build (`build-static.sh`) has no ELF interpreter and names no
//! shared library, and it serves the Lambda Runtime API inside a root
//! filesystem that has no C library at all (busybox-static, run with
//! bubblewrap): it stages an S3 object from moto, runs the script with
//! busybox `sh`, uploads the result and answers, reaching S3 and the Runtime
//! API by IP, by names in the root's `/etc/hosts`, and by names that a DNS
//! server (dnsmasq on a loopback address, port 53) answers through the
//! root's `/etc/resolv.conf`.

#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../runtime_api/fake.rs"]
mod fake;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fake::FakeRuntime;
use testkit::dns::Dnsmasq;
use testkit::rootfs::{elf_linking, RootFs};

/// The static supervisor ([`testkit::static_supervisor`]).
fn static_supervisor() -> &'static Path {
    testkit::static_supervisor(Path::new(env!("CARGO_BIN_EXE_scar-supervisor")))
}

#[test]
fn static_build_has_no_interpreter_and_needs_no_shared_library() {
    let bin = static_supervisor();
    let linking = elf_linking(bin).unwrap();
    assert_eq!(linking.interpreter, None, "{}", bin.display());
    assert_eq!(linking.needed, Vec::<String>::new(), "{}", bin.display());
    // The layer's gate agrees (build-layer.sh runs it on the release build).
    let gate = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/check-glibc.sh"))
        .arg("--static")
        .arg(bin)
        .output()
        .unwrap();
    assert!(
        gate.status.success(),
        "{}",
        String::from_utf8_lossy(&gate.stderr)
    );
    // The same check tells the normal (dynamic) build apart, so it can fail.
    let dynamic = elf_linking(Path::new(env!("CARGO_BIN_EXE_scar-supervisor"))).unwrap();
    assert!(
        dynamic
            .interpreter
            .as_deref()
            .is_some_and(|i| i.contains("ld-linux")),
        "{dynamic:?}"
    );
    assert!(
        dynamic.needed.iter().any(|l| l == "libc.so.6"),
        "{dynamic:?}"
    );
    // And it runs on its own.
    let out = Command::new(bin).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("scar-supervisor "));
}

#[test]
#[cfg_attr(
    scar_rootfs_tools_missing,
    ignore = "needs bwrap and busybox-static (apt-get install bubblewrap busybox-static dnsmasq-base; then `touch supervisor/build.rs`); runs and fails under CI=true"
)]
fn a_root_without_c_library_runs_the_static_build_but_not_the_dynamic_one() {
    let root = RootFs::busybox();
    assert_eq!(root.shared_libraries(), Vec::<PathBuf>::new());
    root.install(static_supervisor(), "opt/static");
    root.install(
        Path::new(env!("CARGO_BIN_EXE_scar-supervisor")),
        "opt/dynamic",
    );
    let run = |program: &str| {
        root.command(program)
            .arg("--version")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    let ok = run("/opt/static");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("scar-supervisor "));
    // The dynamic build's loader is not there: it cannot even start.
    let refused = run("/opt/dynamic");
    assert!(
        !refused.status.success(),
        "the root has a C library after all"
    );
}

const CONFIG: &str = "\
name: anywhere
init_script: handler.sh
output:
- storage_provider: s3
  path: any-out/results
";

// busybox applets only; `readlink /bin/sh` (`busybox`, a link in the root's
// /bin) shows the script ran in the root.
const HANDLER: &str = r#"tr 'a-z' 'A-Z' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"
echo "request $REQUEST_ID, sh is $(readlink /bin/sh)"
"#;

/// Where the supervisor in the root finds S3 and the Runtime API. S3 names
/// end in `.svc.cluster.local` (a Kubernetes service name): moto reads any
/// other dotted host name as a virtual-hosted bucket (`<bucket>.<host>`),
/// and the supervisor asks for path-style requests.
struct Names<'a> {
    s3_host: &'a str,
    runtime_host: &'a str,
    etc_hosts: &'a str,
    resolv_conf: Option<String>,
}

/// The static supervisor as Lambda starts `/opt/bootstrap`, in a busybox
/// root, serving one S3 event: asserts the answer, the uploaded object, and
/// that nothing is left in the root's /tmp.
fn serve_s3_event_in_busybox_root(names: Names<'_>) {
    let moto = testkit::Moto::start();
    let s3c = s3(&moto);
    let rt = runtime();
    rt.block_on(async {
        create_bucket(&s3c, "any-in").await;
        create_bucket(&s3c, "any-out").await;
        put(&s3c, "any-in", "photos/a b.txt", b"busybox data").await;
    });

    let root = RootFs::busybox();
    root.install(static_supervisor(), "opt/bootstrap");
    root.write("var/task/function_config.yaml", CONFIG);
    root.write("var/task/handler.sh", HANDLER);
    root.write("etc/hosts", names.etc_hosts);
    if let Some(conf) = &names.resolv_conf {
        root.write("etc/resolv.conf", conf);
    }
    // libc's name service (NSS: getaddrinfo, getpwuid, ...) starts by reading
    // these; as named pipes they block any reader, so the invocation can only
    // finish if nothing in the supervisor goes through NSS. (A static glibc
    // 2.34+ resolves files/dns names by itself, so an absent file would not
    // show it; NSS modules it would dlopen are what the supervisor avoids.)
    for nss_file in ["etc/nsswitch.conf", "etc/passwd", "etc/group"] {
        root.mkfifo(nss_file);
    }

    let api = FakeRuntime::start();
    api.push(
        "req-any",
        Duration::from_secs(60),
        &s3_event("any-in", "photos/a+b.txt"),
    );
    let log = root.host_path("supervisor.log");
    let mut cmd = root.command("/opt/bootstrap");
    moto.configure(&mut cmd);
    cmd.env(
        "AWS_ENDPOINT_URL",
        format!("http://{}:{}", names.s3_host, moto.port()),
    )
    .env(
        "AWS_LAMBDA_RUNTIME_API",
        format!("{}:{}", names.runtime_host, api.addr.port()),
    )
    .env("AWS_LAMBDA_FUNCTION_NAME", "anywhere")
    .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/anywhere")
    .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/01/[$LATEST]abc")
    .env("LAMBDA_TASK_ROOT", "/var/task")
    .env("TMPDIR", "/tmp")
    .env("LOG_LEVEL", "DEBUG")
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&log).unwrap());
    let mut child = cmd.spawn().expect("start bwrap");
    let logs = || std::fs::read_to_string(&log).unwrap_or_default();

    let gone_by = Instant::now() + Duration::from_secs(60);
    let post = loop {
        if let Some(post) = api.posts().into_iter().next() {
            break post;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the supervisor exited ({status}) before answering:\n{}",
                logs()
            );
        }
        assert!(
            Instant::now() < gone_by,
            "no answer within 60 s:\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();

    assert_eq!(
        post.path,
        "/2018-06-01/runtime/invocation/req-any/response",
        "{}\n{}",
        String::from_utf8_lossy(&post.body),
        logs()
    );
    let answer = post.json();
    assert_eq!(answer["statusCode"], 200, "{answer}\n{}", logs());
    assert_eq!(
        String::from_utf8_lossy(&unb64(answer["body"].as_str().unwrap())),
        "request req-any, sh is busybox\n"
    );
    rt.block_on(async {
        assert_eq!(
            get(&s3c, "any-out", "results/a b.txt").await,
            b"BUSYBOX DATA"
        );
    });
    assert_eq!(leftovers(&root.host_path("tmp")), Vec::<String>::new());
    assert_eq!(root.shared_libraries(), Vec::<PathBuf>::new());
}

#[test]
#[cfg_attr(
    scar_rootfs_tools_missing,
    ignore = "needs bwrap and busybox-static (apt-get install bubblewrap busybox-static dnsmasq-base; then `touch supervisor/build.rs`); runs and fails under CI=true"
)]
fn busybox_root_reaches_s3_by_ip() {
    serve_s3_event_in_busybox_root(Names {
        s3_host: "127.0.0.1",
        runtime_host: "127.0.0.1",
        etc_hosts: "",
        resolv_conf: None,
    });
}

#[test]
#[cfg_attr(
    scar_rootfs_tools_missing,
    ignore = "needs bwrap and busybox-static (apt-get install bubblewrap busybox-static dnsmasq-base; then `touch supervisor/build.rs`); runs and fails under CI=true"
)]
fn busybox_root_reaches_s3_and_the_runtime_api_by_etc_hosts_names() {
    // No resolv.conf: the names must come from /etc/hosts alone.
    serve_s3_event_in_busybox_root(Names {
        s3_host: "s3.hosts.svc.cluster.local",
        runtime_host: "runtime.test",
        etc_hosts: "127.0.0.1 localhost\n127.0.0.1 s3.hosts.svc.cluster.local runtime.test\n",
        resolv_conf: None,
    });
}

#[test]
#[cfg_attr(
    scar_rootfs_tools_missing,
    ignore = "needs bwrap, busybox-static and dnsmasq (apt-get install bubblewrap busybox-static dnsmasq-base; then `touch supervisor/build.rs`); runs and fails under CI=true"
)]
#[cfg_attr(
    scar_dns_port_unavailable,
    ignore = "needs root to run dnsmasq on port 53 of a loopback address (resolv.conf cannot name a port); runs and fails under CI=true"
)]
fn busybox_root_reaches_s3_and_the_runtime_api_by_dns_names() {
    let dns = Dnsmasq::start(0, &["s3.dns.svc.cluster.local", "runtime.dns.test"]);
    // The names are in DNS only, not in the root's /etc/hosts.
    serve_s3_event_in_busybox_root(Names {
        s3_host: "s3.dns.svc.cluster.local",
        runtime_host: "runtime.dns.test",
        etc_hosts: "127.0.0.1 localhost\n",
        resolv_conf: Some(format!("nameserver {}\noptions timeout:2\n", dns.address)),
    });
}
