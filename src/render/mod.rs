//! Plans for people and programs: terraform-like text, Markdown for
//! pull-request comments, JSON in a versioned schema. Secrets are masked in every format.

pub mod drift;
pub mod json;
pub mod markdown;
pub mod text;

/// What stands for a secret value.
pub const SENSITIVE: &str = crate::secrets::MASK;

/// What stands for a secret value that this change alters: a change to a
/// secret alone never renders as an empty diff.
pub const SENSITIVE_CHANGED: &str = crate::secrets::MASK_CHANGED;

pub use crate::plan::doc::{masked, sensitive_parts};
