//! AWS Batch: managed compute environments, job queues and job
//! definitions, in the project's own types.

/// AWS Batch: compute environments, job queues, job definitions.
pub trait BatchApi {}
