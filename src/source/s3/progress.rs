//! Counters of S3 work, shared by the listing, the fetching tasks and the
//! progress display.

use std::sync::atomic::{AtomicU64, Ordering};

/// Objects and bytes listed and fetched, requests and retries.
#[derive(Debug, Default)]
pub struct S3Counters {
    pub list_requests: AtomicU64,
    pub listed_objects: AtomicU64,
    pub listed_bytes: AtomicU64,
    pub fetched_objects: AtomicU64,
    pub fetched_bytes: AtomicU64,
    pub retries: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct S3Totals {
    pub list_requests: u64,
    pub listed_objects: u64,
    pub listed_bytes: u64,
    pub fetched_objects: u64,
    pub fetched_bytes: u64,
    pub retries: u64,
}

impl S3Counters {
    pub fn add_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_list_request(&self) {
        self.list_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_listed(&self, bytes: u64) {
        self.listed_objects.fetch_add(1, Ordering::Relaxed);
        self.listed_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn add_fetched(&self, bytes: u64) {
        self.fetched_objects.fetch_add(1, Ordering::Relaxed);
        self.fetched_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn totals(&self) -> S3Totals {
        S3Totals {
            list_requests: self.list_requests.load(Ordering::Relaxed),
            listed_objects: self.listed_objects.load(Ordering::Relaxed),
            listed_bytes: self.listed_bytes.load(Ordering::Relaxed),
            fetched_objects: self.fetched_objects.load(Ordering::Relaxed),
            fetched_bytes: self.fetched_bytes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}
