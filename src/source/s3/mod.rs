//! Reading CloudTrail objects from S3: a pruned listing, then GetObject
//! requests with bounded concurrency whose bytes feed the same decoding pool
//! as files on disk.
//!
//! Only ListObjectsV2 and GetObject requests are sent: nothing is ever
//! written to the bucket. The SDK is async, so the source owns a small tokio
//! runtime used only for I/O; decoding stays on the rayon pool.

pub mod client;
pub mod fetch;
pub mod list;
pub mod progress;
pub mod retry;
pub mod url;

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

pub use client::{DEFAULT_CONCURRENCY, S3Settings};
pub use progress::{S3Counters, S3Totals};
pub use url::{S3Url, is_s3_url};

use super::layout::LayoutFilter;
use super::{DiscoveryError, Location, SourceObject};

/// I/O threads of the runtime. Requests wait on the network, not the CPU,
/// so two threads carry many requests in flight.
const RUNTIME_THREADS: usize = 2;

/// A fetched object, or the reason it could not be fetched.
pub type Fetched = (SourceObject, Result<Vec<u8>, String>);

/// The S3 client and the runtime that drives it.
pub struct S3Source {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
    concurrency: usize,
    counters: Arc<S3Counters>,
}

impl S3Source {
    /// Starts the runtime and loads the client configuration.
    pub fn new(settings: &S3Settings) -> std::io::Result<S3Source> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_THREADS)
            .thread_name("s3-io")
            .enable_all()
            .build()?;
        let client = runtime.block_on(client::build_client(settings));
        Ok(S3Source {
            runtime,
            client,
            concurrency: settings.concurrency.max(1),
            counters: Arc::new(S3Counters::default()),
        })
    }

    pub fn counters(&self) -> &Arc<S3Counters> {
        &self.counters
    }

    /// Lists the objects under `url` that the filter keeps. Prefixes that
    /// cannot be listed come back as errors naming them.
    pub fn list(
        &self,
        url: &S3Url,
        filter: &LayoutFilter,
    ) -> (Vec<SourceObject>, Vec<DiscoveryError>) {
        let listing = self.runtime.block_on(list::list_pruned(
            &self.client,
            &url.bucket,
            &url.prefix,
            filter,
            self.concurrency,
            &self.counters,
        ));
        let objects = listing
            .objects
            .into_iter()
            .map(|object| SourceObject {
                uri: S3Url::object_uri(&url.bucket, &object.key),
                location: Location::S3 {
                    bucket: url.bucket.clone(),
                    key: object.key,
                },
                size: Some(object.size),
                modified: object.modified,
                etag: object.etag,
            })
            .collect();
        let errors = listing
            .errors
            .into_iter()
            .map(|error| DiscoveryError {
                uri: S3Url::object_uri(&url.bucket, &error.prefix),
                reason: error.reason,
            })
            .collect();
        (objects, errors)
    }

    /// Starts fetching `objects` with up to the configured number of
    /// requests in flight and returns the channel that delivers them as they
    /// complete. Memory contains at most `2 × concurrency` fetched objects
    /// that the decoders have not taken yet. Dropping the receiver stops the
    /// fetching.
    pub fn fetch_all(&self, objects: Vec<SourceObject>, limit: u64) -> mpsc::Receiver<Fetched> {
        let (sender, receiver) = mpsc::channel(self.concurrency);
        let client = self.client.clone();
        let counters = Arc::clone(&self.counters);
        let permits = Arc::new(Semaphore::new(self.concurrency));
        self.runtime.spawn(async move {
            let mut tasks = JoinSet::new();
            for object in objects {
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                    break;
                };
                if sender.is_closed() {
                    break;
                }
                let sender = sender.clone();
                let client = client.clone();
                let counters = Arc::clone(&counters);
                tasks.spawn(async move {
                    let mut object = object;
                    let result = match &object.location {
                        Location::S3 { bucket, key } => {
                            let listed = list::ListedObject {
                                key: key.clone(),
                                size: object.size.unwrap_or(0),
                                etag: object.etag.clone(),
                                modified: object.modified.clone(),
                            };
                            fetch::fetch_object(&client, bucket, &listed, limit, &counters).await
                        }
                        _ => Err("not an S3 object".to_string()),
                    };
                    // Some S3-compatible servers (s3s-fs among them) list
                    // objects without an ETag; GetObject's is recorded then.
                    let result = result.map(|body| {
                        counters.add_fetched(body.bytes.len() as u64);
                        if object.etag.is_none() {
                            object.etag = body.etag;
                        }
                        body.bytes
                    });
                    // The permit is held until the decoders take the object,
                    // which bounds the fetched bytes waiting in memory.
                    let _ = sender.send((object, result)).await;
                    drop(permit);
                });
                while tasks.try_join_next().is_some() {}
            }
            while tasks.join_next().await.is_some() {}
        });
        receiver
    }
}
