//! `RequestCounter`: the AWS requests a cloud implementation makes, in
//! total and per operation name. Shared by every implementation of
//! [`super::Cloud`] (the AWS adapter, the in-memory double), so that a
//! test can assert what a change costs in requests.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Counts the requests a cloud implementation makes: in total and per
/// operation name (`CreateFunction`, `GetBucketTagging`, ...). Every page of
/// a paginated listing counts as one request.
#[derive(Debug, Default)]
pub struct RequestCounter {
    total: AtomicU64,
    by_operation: Mutex<BTreeMap<&'static str, u64>>,
}

impl RequestCounter {
    /// Records one request of `operation`.
    pub fn record(&self, operation: &'static str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut map = self
            .by_operation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *map.entry(operation).or_default() += 1;
    }

    /// All requests so far.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Requests of one operation so far.
    pub fn count(&self, operation: &str) -> u64 {
        self.snapshot().get(operation).copied().unwrap_or(0)
    }

    /// Requests per operation name, sorted by name.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        let map = self
            .by_operation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    /// Starts counting from zero again.
    pub fn reset(&self) {
        let mut map = self
            .by_operation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.clear();
        self.total.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_per_operation() {
        let c = RequestCounter::default();
        c.record("GetFunction");
        c.record("GetFunction");
        c.record("ListFunctions");
        assert_eq!(c.total(), 3);
        assert_eq!(c.count("GetFunction"), 2);
        assert_eq!(c.count("DeleteFunction"), 0);
        c.reset();
        assert_eq!(c.total(), 0);
        assert!(c.snapshot().is_empty());
    }
}
