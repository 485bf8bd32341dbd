//! Container images: how a function's `container.image` is named
//! (`reference`) and where it is fetched from (`registries`: the
//! `registries.conf` endpoints), and the function's image derived from it
//! by one appended layer (`assemble`).

pub mod archive;
pub mod assemble;
pub mod auth;
pub mod build;
pub mod reference;
pub mod registries;
pub mod registry;
pub mod supervisor;
