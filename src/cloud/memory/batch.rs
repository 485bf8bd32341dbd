//! The in-memory double of AWS Batch.

use super::MemoryCloud;
use crate::cloud::BatchApi;

/// The account's Batch resources.
#[derive(Default)]
pub(super) struct BatchState {}

impl BatchApi for MemoryCloud {}
