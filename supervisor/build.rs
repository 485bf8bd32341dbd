//! Build script: marks the tests that read `../shared` as ignored when it
//! is missing outside CI (see `build-support/shared_corpus.rs`), and the
//! tests that run the supervisor in a root without a C library as ignored
//! when their tools (bubblewrap, busybox-static, dnsmasq) are missing or, for
//! the DNS one, when port 53 cannot be bound (not root), outside CI. Under
//! `CI=true` they always run, and a missing tool fails them.

include!("../build-support/shared_corpus.rs");

fn main() {
    shared_corpus_cfg("../../shared/corpus");
    rootfs_tools_cfg();
}

fn rootfs_tools_cfg() {
    println!("cargo::rustc-check-cfg=cfg(scar_rootfs_tools_missing)");
    println!("cargo::rustc-check-cfg=cfg(scar_dns_port_unavailable)");
    println!("cargo::rerun-if-env-changed=PATH");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        return;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = |name: &str| {
        std::env::split_paths(&path)
            .chain(["/usr/sbin".into(), "/sbin".into()])
            .any(|dir| dir.join(name).is_file())
    };
    if !["bwrap", "busybox", "dnsmasq"].into_iter().all(found) {
        println!("cargo::rustc-cfg=scar_rootfs_tools_missing");
    }
    // Binding 127.x.y.z:53 needs root (resolv.conf cannot name a port).
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
