//! The binary must start on Amazon Linux 2023 (glibc 2.34): no needed symbol
//! version may be newer, and no shared library beyond glibc and libgcc_s.
//! (`build-layer.sh` runs the same check on the release binary.)

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
