//! Build script: marks the tests that read `../shared` as ignored when it
//! is missing outside CI (see `build-support/shared_corpus.rs`).

include!("../build-support/shared_corpus.rs");

fn main() {
    shared_corpus_cfg("../../shared/corpus");
}
