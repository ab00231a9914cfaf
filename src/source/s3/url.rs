//! `s3://BUCKET[/PREFIX]` arguments.

/// A bucket and the folder prefix to read under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Empty, or a key prefix ending with `/`: the argument names a folder.
    pub prefix: String,
}

/// Returns true when an ingest argument names S3 rather than a path.
pub fn is_s3_url(text: &str) -> bool {
    text.starts_with("s3://")
}

impl S3Url {
    /// Parses `s3://BUCKET[/PREFIX]`. The prefix is a folder, so a missing
    /// trailing `/` is added: `s3://b/logs` never reads `logs-old/`.
    pub fn parse(text: &str) -> Result<S3Url, String> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| format!("invalid S3 URL '{text}': expected s3://BUCKET[/PREFIX]"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // Bucket names are 3 to 63 lower-case letters, digits, dots and
        // hyphens; a looser check would send an unusable request.
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|byte| {
                byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'.' || byte == b'-'
            });
        if !valid_bucket {
            return Err(format!(
                "invalid S3 URL '{text}': bucket name '{bucket}' must be 3 to 63 lower-case letters, digits, dots or hyphens"
            ));
        }
        let mut prefix = prefix.to_string();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix,
        })
    }

    /// The URI recorded in the manifest and the store for one key.
    pub fn object_uri(bucket: &str, key: &str) -> String {
        format!("s3://{bucket}/{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_prefix() {
        let url = S3Url::parse("s3://trail-bucket/org/logs").unwrap();
        assert_eq!(url.bucket, "trail-bucket");
        assert_eq!(url.prefix, "org/logs/");
        assert_eq!(S3Url::parse("s3://trail-bucket").unwrap().prefix, "");
        assert_eq!(S3Url::parse("s3://trail-bucket/").unwrap().prefix, "");
        assert_eq!(
            S3Url::parse("s3://b.c-d/AWSLogs/").unwrap().prefix,
            "AWSLogs/"
        );
    }

    #[test]
    fn rejects_invalid_urls() {
        assert!(S3Url::parse("s3://").is_err());
        assert!(S3Url::parse("s3://UPPER/x").is_err());
        assert!(S3Url::parse("https://bucket/x").is_err());
        assert!(S3Url::parse("s3://a/x").is_err());
    }
}
