//! Object keys of an `AWSLogs` tree and the hourly digest files.
//!
//! Log files:
//! `[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE16.json.gz`,
//! where the time is the delivery minute.
//!
//! Digest files:
//! `…/ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_YYYYMMDDTHHMMSSZ.json.gz`,
//! where the time is `digestEndTime`. A digest lists the log files delivered
//! in its hour with the hex SHA-256 of each file's uncompressed content, and
//! chains to the previous digest of the same account and region through the
//! SHA-256 of that digest's uncompressed content. The first digest of a chain
//! has null `previousDigest*` fields.
//!
//! NOTE: Real digests are signed with an RSA key, and the signature is stored
//! in S3 object metadata, not in the file. This generator has no key, so the
//! signatures (and `previousDigestSignature`) are random hex: hash and chain
//! checks work on a generated tree, signature checks cannot.

use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256};

use super::random::{self, derive_seed};
use super::record::{Epoch, JsonObject, format_event_time, to_datetime};

/// Trail name. It contains `_` on purpose: trail names may, so a digest key
/// cannot be split on `_`.
pub(crate) const TRAIL_NAME: &str = "org-audit_trail";

/// Builds the folder of one account's objects: `[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT`.
pub(crate) fn account_root(prefix: Option<&str>, org_id: Option<&str>, account: &str) -> String {
    let mut root = String::new();
    if let Some(prefix) = prefix
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
    {
        root.push_str(prefix);
        root.push('/');
    }
    root.push_str("AWSLogs/");
    if let Some(org) = org_id {
        root.push_str(org);
        root.push('/');
    }
    root.push_str(account);
    root
}

/// Builds the key of a log file delivered at `delivered` (whole minutes).
pub(crate) fn log_key(
    root: &str,
    account: &str,
    region: &str,
    delivered: Epoch,
    unique: &str,
) -> String {
    let time = to_datetime(delivered);
    format!(
        "{root}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}_{unique}.json.gz",
        time.format("%Y/%m/%d"),
        time.format("%Y%m%dT%H%MZ")
    )
}

/// Builds the key of the digest that ends at `end`.
pub(crate) fn digest_key(
    root: &str,
    account: &str,
    region: &str,
    home_region: &str,
    end: Epoch,
) -> String {
    let time = to_datetime(end);
    format!(
        "{root}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{TRAIL_NAME}_{home_region}_{}.json.gz",
        time.format("%Y/%m/%d"),
        time.format("%Y%m%dT%H%M%SZ")
    )
}

/// Builds the bucket name recorded in digests, in the form the CloudTrail
/// console gives new trails.
pub(crate) fn bucket_name(seed: u64, account: &str) -> String {
    let mut rng = StdRng::seed_from_u64(derive_seed(seed, &[0xb0c4e7]));
    format!("aws-cloudtrail-logs-{account}-{}", random::hex(&mut rng, 8))
}

/// A log file as a digest lists it.
#[derive(Debug, Clone)]
pub(crate) struct DigestEntry {
    pub key: String,
    pub sha256: String,
    pub oldest: Epoch,
    pub newest: Epoch,
}

/// The digest chain of one account and region.
pub(crate) struct DigestChain {
    account: String,
    region: String,
    home_region: String,
    root: String,
    bucket: String,
    fingerprint: String,
    rng: StdRng,
    previous: Option<PreviousDigest>,
}

struct PreviousDigest {
    key: String,
    sha256: String,
    signature: String,
}

impl DigestChain {
    pub(crate) fn new(
        seed: u64,
        stream: usize,
        account: &str,
        region: &str,
        home_region: &str,
        root: &str,
        bucket: &str,
    ) -> DigestChain {
        let rng = StdRng::seed_from_u64(derive_seed(seed, &[0xd16e57, stream as u64]));
        // One public key per region signs every digest of that region.
        let mut region_rng =
            StdRng::seed_from_u64(derive_seed(seed, &[0xf1a9e2, random::text_seed(region)]));
        let fingerprint = random::hex(&mut region_rng, 32);
        DigestChain {
            account: account.to_string(),
            region: region.to_string(),
            home_region: home_region.to_string(),
            root: root.to_string(),
            bucket: bucket.to_string(),
            fingerprint,
            rng,
            previous: None,
        }
    }

    /// Renders the digest for `[start, end)` listing `files`, and returns its
    /// key and uncompressed JSON. The chain moves on to this digest.
    pub(crate) fn next(
        &mut self,
        start: Epoch,
        end: Epoch,
        files: &[DigestEntry],
    ) -> (String, Vec<u8>) {
        let key = digest_key(
            &self.root,
            &self.account,
            &self.region,
            &self.home_region,
            end,
        );
        let newest = files.iter().map(|file| file.newest).max();
        let oldest = files.iter().map(|file| file.oldest).min();

        let mut out = Vec::with_capacity(1024 + files.len() * 400);
        let mut object = JsonObject::open(&mut out);
        object.string("awsAccountId", &self.account);
        object.string("digestStartTime", &format_event_time(start));
        object.string("digestEndTime", &format_event_time(end));
        object.string("digestS3Bucket", &self.bucket);
        object.string("digestS3Object", &key);
        object.string("digestPublicKeyFingerprint", &self.fingerprint);
        object.string("digestSignatureAlgorithm", "SHA256withRSA");
        object.optional_string("newestEventTime", newest.map(format_event_time).as_deref());
        object.optional_string("oldestEventTime", oldest.map(format_event_time).as_deref());
        let previous = self.previous.as_ref();
        object.optional_string(
            "previousDigestS3Bucket",
            previous.map(|_| self.bucket.as_str()),
        );
        object.optional_string("previousDigestS3Object", previous.map(|p| p.key.as_str()));
        object.optional_string(
            "previousDigestHashValue",
            previous.map(|p| p.sha256.as_str()),
        );
        object.optional_string("previousDigestHashAlgorithm", previous.map(|_| "SHA-256"));
        object.optional_string(
            "previousDigestSignature",
            previous.map(|p| p.signature.as_str()),
        );
        object.key("logFiles");
        object.out.push(b'[');
        for (index, file) in files.iter().enumerate() {
            if index > 0 {
                object.out.push(b',');
            }
            let mut entry = JsonObject::open(object.out);
            entry.string("s3Bucket", &self.bucket);
            entry.string("s3Object", &file.key);
            entry.string("hashValue", &file.sha256);
            entry.string("hashAlgorithm", "SHA-256");
            entry.string("newestEventTime", &format_event_time(file.newest));
            entry.string("oldestEventTime", &format_event_time(file.oldest));
            entry.close();
        }
        object.out.push(b']');
        object.close();

        self.previous = Some(PreviousDigest {
            key: key.clone(),
            sha256: sha256_hex(&out),
            signature: random::hex(&mut self.rng, 512),
        });
        (key, out)
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_key_has_cloudtrail_layout() {
        let root = account_root(Some("audit/logs/"), Some("o-abc123defg"), "012345678901");
        let key = log_key(
            &root,
            "012345678901",
            "eu-west-1",
            1_688_991_060,
            "AbCdEfGhIjKlMnOp",
        );
        assert_eq!(
            key,
            "audit/logs/AWSLogs/o-abc123defg/012345678901/CloudTrail/eu-west-1/2023/07/10/012345678901_CloudTrail_eu-west-1_20230710T1211Z_AbCdEfGhIjKlMnOp.json.gz"
        );
    }

    #[test]
    fn digest_key_has_seconds_and_trail() {
        let root = account_root(None, None, "111122223333");
        let key = digest_key(
            &root,
            "111122223333",
            "us-east-2",
            "us-east-1",
            1_439_823_691,
        );
        assert_eq!(
            key,
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_org-audit_trail_us-east-1_20150817T150131Z.json.gz"
        );
    }

    #[test]
    fn first_digest_has_null_previous_fields() {
        let mut chain = DigestChain::new(
            1,
            0,
            "111122223333",
            "us-east-1",
            "us-east-1",
            "AWSLogs/111122223333",
            "bucket",
        );
        let (_, first) = chain.next(0, 3600, &[]);
        let value: serde_json::Value = serde_json::from_slice(&first).unwrap();
        assert!(value["previousDigestS3Object"].is_null());
        assert!(value["previousDigestHashValue"].is_null());
        assert!(value["newestEventTime"].is_null());
        assert_eq!(value["logFiles"], serde_json::json!([]));

        let (_, second) = chain.next(3600, 7200, &[]);
        let value: serde_json::Value = serde_json::from_slice(&second).unwrap();
        assert_eq!(value["previousDigestHashValue"], sha256_hex(&first));
        assert_eq!(value["previousDigestHashAlgorithm"], "SHA-256");
    }
}
