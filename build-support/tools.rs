// Included by the scar crate's build script (`include!`).
//
// Sets `cfg(scar_no_registry)` when Debian's `docker-registry` is not on
// PATH and this is not CI: the tests that need a real OCI registry are then
// *ignored* with a reason the test summary shows, never passed silently;
// under `CI=true` they run, and a missing registry fails them (`.ci/run`
// installs it). Decided when the build script first runs (it reruns when
// build.rs changes), so a registry installed later needs `cargo clean -p scar`.
fn tools_cfg() {
    println!("cargo::rustc-check-cfg=cfg(scar_no_registry)");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let on_path = |name: &str| {
        std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join(name).is_file())
        })
    };
    if !ci && !on_path("docker-registry") {
        println!("cargo::rustc-cfg=scar_no_registry");
    }
}
