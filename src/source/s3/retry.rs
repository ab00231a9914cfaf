//! trailhound's own retry loop around S3 requests.
//!
//! The SDK retries throttling, 5xx and connection errors itself, but it
//! draws each retry from a token bucket shared by the whole client, so under
//! a long burst of errors it stops retrying. It also never retries a body
//! cut off after the headers. This loop retries those cases with backoff.

use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use rand::Rng;

/// Attempts per request made by this loop; each may contain SDK retries.
pub const MAX_ATTEMPTS: u32 = 5;

/// A failed attempt and whether another attempt can succeed.
#[derive(Debug, Clone)]
pub struct Failure {
    pub retryable: bool,
    pub message: String,
}

impl Failure {
    pub fn retryable(message: impl Into<String>) -> Failure {
        Failure {
            retryable: true,
            message: message.into(),
        }
    }

    pub fn permanent(message: impl Into<String>) -> Failure {
        Failure {
            retryable: false,
            message: message.into(),
        }
    }
}

/// Classifies an SDK error: throttling, 5xx, timeouts and connection or
/// response errors are retryable; other 4xx responses (access denied, no
/// such key, precondition failed) are not.
pub fn classify<E>(err: SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err
        .raw_response()
        .map(|response| response.status().as_u16());
    let retryable = match &err {
        SdkError::ServiceError(_) => {
            status.is_none_or(|status| status >= 500 || status == 408 || status == 429)
        }
        SdkError::ConstructionFailure(_) => false,
        _ => true,
    };
    let mut message = match (status, err.code(), err.message()) {
        (Some(status), Some(code), Some(text)) => format!("HTTP {status} {code}: {text}"),
        (Some(status), Some(code), None) => format!("HTTP {status} {code}"),
        _ => DisplayErrorContext(&err).to_string(),
    };
    // S3 names the bucket's region in this header when a request went to
    // the wrong one (301 PermanentRedirect or 400 AuthorizationHeaderMalformed).
    let bucket_region = err
        .raw_response()
        .and_then(|response| response.headers().get("x-amz-bucket-region"));
    if let Some(region) = bucket_region {
        message.push_str(&format!(
            "; the bucket is in {region}: pass --bucket-region {region}"
        ));
    }
    Failure { retryable, message }
}

/// Delay before attempt `attempt + 1`: exponential from 200 ms, capped at
/// 10 s, with full jitter so parallel requests do not retry in step.
pub fn backoff(attempt: u32) -> Duration {
    let cap_ms = (200u64 << attempt.min(6).saturating_sub(1)).min(10_000);
    Duration::from_millis(rand::rng().random_range(cap_ms / 2..=cap_ms))
}

/// Returns " after N attempts" for an error message, or nothing after one.
pub fn attempts_text(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}
