//! Build script: marks the tests that read `../shared` as ignored when it
//! is missing outside CI (see `build-support/shared_corpus.rs`), and the
//! tests that need a real OCI registry when none is installed outside CI
//! (`build-support/tools.rs`).

include!("build-support/shared_corpus.rs");
include!("build-support/tools.rs");

fn main() {
    shared_corpus_cfg("../shared/corpus");
    tools_cfg();
}
