// Included by the build scripts of the scar and scar-supervisor crates
// (`include!`), so both decide the same way.
//
// Sets `cfg(scar_shared_missing)` when the shared corpus (`../shared`
// beside the checkout, `rel` from the crate's folder) is missing and this
// is not CI. The tests that read the corpus are then *ignored* with a
// reason that the test summary shows, never passed silently; under
// `CI=true` they run, and a missing corpus fails them.
fn shared_corpus_cfg(rel: &str) {
    println!("cargo::rustc-check-cfg=cfg(scar_shared_missing)");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-changed=build.rs");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !ci && !std::path::Path::new(&manifest_dir).join(rel).exists() {
        println!("cargo::rustc-cfg=scar_shared_missing");
    }
}
