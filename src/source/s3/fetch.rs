//! GetObject with retries, a read timeout per chunk and a length check.
//!
//! The bytes returned are the object as stored. The SDK does not undo a
//! `Content-Encoding: gzip`, so a gzipped object arrives gzipped whatever its
//! headers state, and the decoder decompresses it exactly once.

use aws_sdk_s3::Client;

use super::client::READ_TIMEOUT;
use super::list::ListedObject;
use super::progress::S3Counters;
use super::retry::{Failure, MAX_ATTEMPTS, backoff, classify};

/// The bytes of one object and the ETag that GetObject returned.
#[derive(Debug)]
pub struct FetchedBody {
    pub bytes: Vec<u8>,
    pub etag: Option<String>,
}

/// Fetches one object, retrying failed attempts with backoff. Returns the
/// reason of the last attempt when every attempt failed.
pub async fn fetch_object(
    client: &Client,
    bucket: &str,
    object: &ListedObject,
    limit: u64,
    counters: &S3Counters,
) -> Result<FetchedBody, String> {
    let mut attempt = 1;
    loop {
        match fetch_once(client, bucket, object, limit).await {
            Ok(bytes) => return Ok(bytes),
            Err(failure) if failure.retryable && attempt < MAX_ATTEMPTS => {
                counters.add_retry();
                tracing::debug!(
                    bucket,
                    key = object.key.as_str(),
                    attempt,
                    reason = failure.message.as_str(),
                    "retrying GetObject"
                );
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            Err(failure) => {
                return Err(format!(
                    "GetObject failed{}: {}",
                    super::retry::attempts_text(attempt),
                    failure.message
                ));
            }
        }
    }
}

/// One attempt: the request, then the body chunk by chunk.
async fn fetch_once(
    client: &Client,
    bucket: &str,
    object: &ListedObject,
    limit: u64,
) -> Result<FetchedBody, Failure> {
    // If-Match makes S3 refuse an object replaced since it was listed, so
    // the manifest never pairs one version's ETag with another's bytes.
    let response = client
        .get_object()
        .bucket(bucket)
        .key(&object.key)
        .set_if_match(object.etag.clone())
        .send()
        .await
        .map_err(classify)?;
    if let (Some(listed), Some(returned)) = (&object.etag, response.e_tag())
        && listed != returned
    {
        return Err(Failure::permanent(format!(
            "the object changed since it was listed (ETag {listed} listed, {returned} returned); ingest again"
        )));
    }
    let etag = response.e_tag().map(str::to_string);
    let expected = response
        .content_length()
        .and_then(|length| u64::try_from(length).ok());
    if let Some(expected) = expected
        && expected > limit
    {
        return Err(too_large(limit));
    }

    let mut body = response.body;
    let mut bytes = Vec::with_capacity(expected.unwrap_or(0) as usize);
    loop {
        let chunk = match tokio::time::timeout(READ_TIMEOUT, body.next()).await {
            Err(_) => {
                return Err(Failure::retryable(format!(
                    "no data for {} s while reading the body",
                    READ_TIMEOUT.as_secs()
                )));
            }
            Ok(None) => break,
            Ok(Some(Err(err))) => {
                return Err(Failure::retryable(format!(
                    "reading the body failed after {} bytes: {}",
                    bytes.len(),
                    aws_sdk_s3::error::DisplayErrorContext(&err)
                )));
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > limit {
            return Err(too_large(limit));
        }
    }

    // The SDK does not retry a body cut off mid-way, and some cuts end the
    // stream without an error, so the length is checked here.
    if let Some(expected) = expected
        && bytes.len() as u64 != expected
    {
        return Err(Failure::retryable(format!(
            "body truncated: received {} of {expected} bytes",
            bytes.len()
        )));
    }
    Ok(FetchedBody { bytes, etag })
}

fn too_large(limit: u64) -> Failure {
    Failure::permanent(format!(
        "object is larger than the limit of {limit} bytes; raise it with --max-object-size if the object is genuine"
    ))
}
