//! `check-glibc.sh`, the gate of the layer: the normal (dynamic) build needs
//! at most glibc 2.34 (Amazon Linux 2023) and no shared library beyond glibc
//! and libgcc_s, for `cargo install` users; and its `--static` mode, which
//! `build-layer.sh` runs on the layer's `bootstrap`, refuses a dynamic binary.
//! (That the static build passes `--static` is in `tests/any_image`.)

use std::process::Command;

#[test]
fn needs_at_most_glibc_2_34() {
    let bin = env!("CARGO_BIN_EXE_scar-supervisor");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/check-glibc.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(bin)
        .arg("2.34")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("needs at most GLIBC_2."), "{text}");
    // The check itself fails on a too-new limit breach: 2.17 is older than what any Rust std needs.
    let strict = Command::new("bash")
        .arg(script)
        .arg(bin)
        .arg("2.17")
        .output()
        .unwrap();
    assert!(
        !strict.status.success(),
        "the check cannot fail, so it proves nothing"
    );
}

#[test]
fn static_check_refuses_a_dynamic_binary() {
    let bin = env!("CARGO_BIN_EXE_scar-supervisor");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/check-glibc.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg("--static")
        .arg(bin)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("is dynamically linked"), "{stderr}");
    assert!(stderr.contains("libc.so.6"), "{stderr}");
}
