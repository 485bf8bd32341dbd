//! Container images: how a function's `container.image` is named and where
//! it is fetched from (image references, `registries.conf`).

pub mod reference;
pub mod registries;
