//! The S3 client: credentials, region, endpoint, timeouts and the SDK's own
//! retries.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::config::Region;

/// How to reach the bucket, from the command line.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// Named profile of the shared config and credentials files.
    pub profile: Option<String>,
    /// Region of the bucket; the standard chain (`AWS_REGION`, profile)
    /// decides when unset, and `us-east-1` when the chain has none.
    pub bucket_region: Option<String>,
    /// Endpoint of an S3-compatible server.
    pub endpoint_url: Option<String>,
    /// Path-style addressing (`http://host/bucket/key`).
    pub path_style: bool,
    /// Send unsigned requests, for public buckets.
    pub no_sign_request: bool,
    /// GetObject and ListObjectsV2 requests in flight at once.
    pub concurrency: usize,
}

/// Default number of requests in flight. CloudTrail objects are small, so
/// throughput depends on latency and many requests in flight pay off.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Attempts the SDK makes for one request before trailhound's own retry
/// loop takes over (see `retry.rs`).
const SDK_MAX_ATTEMPTS: u32 = 3;

/// Time to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Maximum wait for one read from a connection. The SDK sets none by
/// default, so a server that stops sending would hang the run.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Maximum time for one attempt up to the response headers; the body is
/// read afterwards under `READ_TIMEOUT` per chunk.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds the client from the standard credential chain (environment,
/// profile and SSO, web identity, container and instance roles).
pub async fn build_client(settings: &S3Settings) -> aws_sdk_s3::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(SDK_MAX_ATTEMPTS))
        .timeout_config(timeouts);
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.bucket_region {
        loader = loader.region(Region::new(region.clone()));
    }
    if settings.no_sign_request {
        loader = loader.no_credentials();
    }
    let shared = loader.load().await;

    let mut config =
        aws_sdk_s3::config::Builder::from(&shared).force_path_style(settings.path_style);
    if let Some(url) = &settings.endpoint_url {
        config = config.endpoint_url(url);
    }
    if shared.region().is_none() {
        config = config.region(Region::from_static("us-east-1"));
    }
    aws_sdk_s3::Client::from_conf(config.build())
}
