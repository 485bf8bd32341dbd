// Included by the scar crate's build script (`include!`).
//
// Sets `cfg(scar_no_registry)` when Debian's `docker-registry` is not on
// PATH and this is not CI: the tests that need a real OCI registry are then
// *ignored* with a reason the test summary shows, never passed silently;
// under `CI=true` they run, and a missing registry fails them (`.ci/run`
// installs it). Decided when the build script first runs (it reruns when
// build.rs changes), so a registry installed later needs `cargo clean -p scar`.
//
// Likewise `cfg(scar_no_sandbox_tools)` when bubblewrap, busybox-static or
// dnsmasq is missing (the `scar local invoke` tests), and
// `cfg(scar_dns_port_unavailable)` when port 53 of a loopback address
// cannot be bound (not root; resolv.conf cannot name a port).
fn tools_cfg() {
    println!("cargo::rustc-check-cfg=cfg(scar_no_registry)");
    println!("cargo::rustc-check-cfg=cfg(scar_no_sandbox_tools)");
    println!("cargo::rustc-check-cfg=cfg(scar_dns_port_unavailable)");
    println!("cargo::rustc-check-cfg=cfg(scar_no_actionlint)");
    println!("cargo::rerun-if-env-changed=ACTIONLINT");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let on_path = |name: &str| {
        std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths)
                .chain(["/usr/sbin".into(), "/sbin".into()])
                .any(|dir| dir.join(name).is_file())
        })
    };
    if ci {
        return;
    }
    // actionlint and shellcheck (the GitHub Actions workflows' check):
    // `ACTIONLINT`, PATH, or the venv `.ci/run` installs them into.
    let venv = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join(".tools/actionlint-venv/bin");
    let actionlint = std::env::var_os("ACTIONLINT")
        .is_some_and(|p| std::path::Path::new(&p).is_file())
        || on_path("actionlint")
        || venv.join("actionlint").is_file();
    let shellcheck = on_path("shellcheck") || venv.join("shellcheck").is_file();
    if !(actionlint && shellcheck) {
        println!("cargo::rustc-cfg=scar_no_actionlint");
    }
    if !on_path("docker-registry") {
        println!("cargo::rustc-cfg=scar_no_registry");
    }
    if !["bwrap", "busybox", "dnsmasq"].into_iter().all(on_path) {
        println!("cargo::rustc-cfg=scar_no_sandbox_tools");
    }
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    });
    if !root {
        println!("cargo::rustc-cfg=scar_dns_port_unavailable");
    }
}
