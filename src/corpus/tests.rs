//! Tests that generate small trees and read them back from disk.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::{TimeZone, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

use super::layout::sha256_hex;
use super::*;

fn small_config() -> CorpusConfig {
    CorpusConfig {
        target_compressed_bytes: 250_000,
        seed: 42,
        accounts: vec!["012345678901".to_string(), "987654321098".to_string()],
        regions: vec!["us-east-1".to_string(), "eu-west-1".to_string()],
        start: Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).unwrap(),
        days: 1,
        org_id: Some("o-a1b2c3d4e5".to_string()),
        prefix: Some("audit/trails".to_string()),
        duplicate_fraction: 0.02,
        digests: true,
        attack_scenario: true,
    }
}

/// Lists every file under `root` as (key relative to root, bytes).
fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let key = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(key, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// Decompresses with the project's own gzip reader, and checks that each
/// generated object is exactly one undamaged gzip member, as CloudTrail writes.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let decompressed = crate::decode::gzip::decompress(bytes, 1 << 30).unwrap();
    assert_eq!(decompressed.members, 1);
    assert!(decompressed.damage.is_none(), "{:?}", decompressed.damage);
    assert!(decompressed.note.is_none(), "{:?}", decompressed.note);
    decompressed.data.into_owned()
}

fn is_digits(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit())
}

/// Checks a log key against
/// `PREFIX/AWSLogs/ORG/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE16.json.gz`.
fn is_log_key(key: &str, prefix: &str, org: &str) -> bool {
    let Some(rest) = key.strip_prefix(&format!("{prefix}/AWSLogs/{org}/")) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let [account, folder, region, year, month, day, name] = parts[..] else {
        return false;
    };
    if folder != "CloudTrail"
        || !is_digits(account, 12)
        || !is_digits(year, 4)
        || !is_digits(month, 2)
        || !is_digits(day, 2)
    {
        return false;
    }
    let Some(stem) = name.strip_suffix(".json.gz") else {
        return false;
    };
    let fields: Vec<&str> = stem.split('_').collect();
    let [name_account, "CloudTrail", name_region, stamp, unique] = fields[..] else {
        return false;
    };
    name_account == account
        && name_region == region
        && stamp.len() == 14
        && stamp.starts_with(&format!("{year}{month}{day}T"))
        && is_digits(&stamp[9..13], 4)
        && stamp.ends_with('Z')
        && unique.len() == 16
        && unique.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[test]
fn generated_keys_match_layout() {
    let cfg = small_config();
    let dir = tempfile::tempdir().unwrap();
    generate_tree(dir.path(), &cfg).unwrap();
    let tree = read_tree(dir.path());

    let mut logs = 0;
    let mut digests = 0;
    for key in tree.keys() {
        if key.contains("/CloudTrail-Digest/") {
            digests += 1;
            let name = key.rsplit('/').next().unwrap();
            assert!(name.contains("_CloudTrail-Digest_"), "{key}");
            assert!(name.contains("_org-audit_trail_us-east-1_"), "{key}");
            let stamp = name
                .trim_end_matches(".json.gz")
                .rsplit('_')
                .next()
                .unwrap();
            assert_eq!(stamp.len(), 16, "{key}");
        } else {
            logs += 1;
            assert!(is_log_key(key, "audit/trails", "o-a1b2c3d4e5"), "{key}");
        }
    }
    assert!(logs > 20, "only {logs} log files");
    assert!(digests >= 4 * 24, "only {digests} digest files");
}

#[test]
fn report_matches_reread_tree() {
    let cfg = small_config();
    let dir = tempfile::tempdir().unwrap();
    let report = generate_tree(dir.path(), &cfg).unwrap();
    let tree = read_tree(dir.path());

    let mut seen = CorpusReport::default();
    let mut event_ids = HashSet::new();
    for (key, bytes) in &tree {
        if key.contains("/CloudTrail-Digest/") {
            seen.digest_objects += 1;
            continue;
        }
        let body = gunzip(bytes);
        let value: Value = serde_json::from_slice(&body).unwrap();
        let records = value["Records"].as_array().unwrap();
        assert!(!records.is_empty(), "{key} has no records");
        for record in records {
            event_ids.insert(record["eventID"].as_str().unwrap().to_string());
        }
        seen.objects += 1;
        seen.records += records.len() as u64;
        seen.compressed_bytes += bytes.len() as u64;
        seen.uncompressed_bytes += body.len() as u64;
    }
    seen.distinct_events = event_ids.len() as u64;

    assert_eq!(seen, report);
    assert!(
        report.records > report.distinct_events,
        "no duplicates were delivered"
    );
    assert!(report.compressed_bytes >= cfg.target_compressed_bytes);
}

#[test]
fn same_seed_gives_same_tree() {
    let mut cfg = small_config();
    cfg.target_compressed_bytes = 120_000;
    cfg.attack_scenario = false;
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let third = tempfile::tempdir().unwrap();
    let report_first = generate_tree(first.path(), &cfg).unwrap();
    let report_second = generate_tree(second.path(), &cfg).unwrap();
    cfg.seed += 1;
    generate_tree(third.path(), &cfg).unwrap();

    assert_eq!(report_first, report_second);
    let tree_first = read_tree(first.path());
    assert!(
        tree_first == read_tree(second.path()),
        "trees differ for the same seed"
    );
    assert!(
        tree_first != read_tree(third.path()),
        "trees are equal for different seeds"
    );
}

#[test]
fn digest_hashes_match_logs() {
    let cfg = small_config();
    let dir = tempfile::tempdir().unwrap();
    generate_tree(dir.path(), &cfg).unwrap();
    let tree = read_tree(dir.path());

    let mut listed = HashSet::new();
    let mut chains: HashMap<String, Vec<(String, Value, String)>> = HashMap::new();
    for (key, bytes) in tree
        .iter()
        .filter(|(key, _)| key.contains("/CloudTrail-Digest/"))
    {
        let body = gunzip(bytes);
        let digest: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(digest["digestS3Object"].as_str().unwrap(), key);
        for entry in digest["logFiles"].as_array().unwrap() {
            let object = entry["s3Object"].as_str().unwrap();
            let log = tree
                .get(object)
                .unwrap_or_else(|| panic!("{object} is listed but missing"));
            assert_eq!(
                entry["hashValue"].as_str().unwrap(),
                sha256_hex(&gunzip(log)),
                "{object}"
            );
            assert_eq!(entry["hashAlgorithm"], "SHA-256");
            assert!(
                listed.insert(object.to_string()),
                "{object} is listed twice"
            );
        }
        let chain_name = key
            .rsplit_once('/')
            .unwrap()
            .1
            .split("_CloudTrail-Digest_")
            .next()
            .unwrap()
            .to_string()
            + key
                .split("/CloudTrail-Digest/")
                .nth(1)
                .unwrap()
                .split('/')
                .next()
                .unwrap();
        chains
            .entry(chain_name)
            .or_default()
            .push((key.clone(), digest, sha256_hex(&body)));
    }

    let logs = tree
        .keys()
        .filter(|key| !key.contains("/CloudTrail-Digest/"))
        .count();
    assert_eq!(listed.len(), logs, "some log files are in no digest");

    for (name, mut digests) in chains {
        digests.sort_by(|a, b| {
            a.1["digestEndTime"]
                .as_str()
                .cmp(&b.1["digestEndTime"].as_str())
        });
        let first = &digests[0].1;
        for field in [
            "previousDigestS3Bucket",
            "previousDigestS3Object",
            "previousDigestHashValue",
            "previousDigestHashAlgorithm",
            "previousDigestSignature",
        ] {
            assert!(first[field].is_null(), "{name}: first digest has {field}");
        }
        for pair in digests.windows(2) {
            let (previous_key, previous, previous_hash) = &pair[0];
            let current = &pair[1].1;
            assert_eq!(
                current["previousDigestHashValue"].as_str().unwrap(),
                previous_hash,
                "{name}"
            );
            assert_eq!(
                current["previousDigestS3Object"].as_str().unwrap(),
                previous_key
            );
            assert_eq!(current["digestStartTime"], previous["digestEndTime"]);
        }
    }
}

/// Loads every record of a tree's log files.
fn all_records(tree: &BTreeMap<String, Vec<u8>>) -> Vec<Value> {
    let mut records = Vec::new();
    for (key, bytes) in tree {
        if key.contains("/CloudTrail-Digest/") {
            continue;
        }
        let value: Value = serde_json::from_slice(&gunzip(bytes)).unwrap();
        records.extend(value["Records"].as_array().unwrap().iter().cloned());
    }
    records
}

#[test]
fn scenario_keys_form_lineage() {
    let cfg = small_config();
    let dir = tempfile::tempdir().unwrap();
    generate_tree(dir.path(), &cfg).unwrap();
    let records = all_records(&read_tree(dir.path()));

    let minted_by = |key: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| {
                r["responseElements"]["credentials"]["accessKeyId"] == key
                    || r["responseElements"]["accessKey"]["accessKeyId"] == key
            })
            .collect()
    };
    let used = |key: &str| {
        records
            .iter()
            .filter(|r| r["userIdentity"]["accessKeyId"] == key)
            .count()
    };

    let admin = minted_by(ADMIN_SESSION_KEY);
    assert!(!admin.is_empty(), "no AssumeRole returns the admin key");
    assert_eq!(admin[0]["userIdentity"]["accessKeyId"], LEAKED_KEY);
    assert!(
        admin[0]["responseElements"]["assumedRoleUser"]["arn"]
            .as_str()
            .unwrap()
            .contains("assumed-role/deploy-admin/")
    );
    assert!(admin[0]["responseElements"]["credentials"]["expiration"].is_string());

    let chain = minted_by(CHAIN_SESSION_KEY);
    assert!(
        chain
            .iter()
            .any(|r| r["userIdentity"]["accessKeyId"] == ADMIN_SESSION_KEY)
    );
    assert!(
        chain
            .iter()
            .any(|r| r["userIdentity"]["type"] == "AWSAccount"),
        "no role owner copy"
    );

    let backdoor = minted_by(BACKDOOR_KEY);
    assert_eq!(backdoor[0]["eventName"], "CreateAccessKey");
    assert_eq!(backdoor[0]["requestParameters"]["userName"], BACKDOOR_USER);
    assert_eq!(
        minted_by(SESSION_TOKEN_KEY)[0]["eventName"],
        "GetSessionToken"
    );

    for key in [
        LEAKED_KEY,
        ADMIN_SESSION_KEY,
        CHAIN_SESSION_KEY,
        SESSION_TOKEN_KEY,
        BACKDOOR_KEY,
        CONSOLE_KEY,
    ] {
        assert!(used(key) > 0, "{key} is never used");
    }
    let admin_use = records
        .iter()
        .find(|r| r["userIdentity"]["accessKeyId"] == ADMIN_SESSION_KEY)
        .unwrap();
    assert_eq!(admin_use["userIdentity"]["type"], "AssumedRole");
    assert_eq!(
        admin_use["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"],
        "deploy-admin"
    );

    let names: HashSet<&str> = records
        .iter()
        .filter(|r| {
            r["sourceIPAddress"].as_str().is_some_and(|ip| {
                ip.starts_with("203.0.113.")
                    || ip.starts_with("198.51.100.")
                    || ip.starts_with("2001:db8:")
            })
        })
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    for name in [
        "GetCallerIdentity",
        "CreateUser",
        "AttachUserPolicy",
        "CreateLoginProfile",
        "ConsoleLogin",
        "UpdateAssumeRolePolicy",
        "StopLogging",
        "GetSecretValue",
        "GetSessionToken",
    ] {
        assert!(names.contains(name), "attacker never calls {name}");
    }
    let login = records
        .iter()
        .find(|r| r["eventName"] == "ConsoleLogin" && r["sourceIPAddress"] == ATTACKER_CONSOLE_IP)
        .unwrap();
    assert_eq!(login["additionalEventData"]["MFAUsed"], "No");
    assert_eq!(login["userIdentity"]["userName"], LOGIN_PROFILE_USER);
}

#[test]
fn records_have_realistic_variety() {
    let mut cfg = small_config();
    cfg.target_compressed_bytes = 2_000_000;
    let dir = tempfile::tempdir().unwrap();
    generate_tree(dir.path(), &cfg).unwrap();
    let records = all_records(&read_tree(dir.path()));

    let types: HashSet<&str> = records
        .iter()
        .filter_map(|r| r["userIdentity"]["type"].as_str())
        .collect();
    for kind in [
        "IAMUser",
        "AssumedRole",
        "AWSService",
        "SAMLUser",
        "IdentityCenterUser",
        "AWSAccount",
    ] {
        assert!(types.contains(kind), "no {kind} identity in {types:?}");
    }
    assert!(
        records
            .iter()
            .any(|r| r["userIdentity"].get("type").is_none()),
        "no service event without type"
    );
    assert!(
        records.iter().any(|r| r["sourceIPAddress"]
            .as_str()
            .is_some_and(|ip| ip.contains(':'))),
        "no IPv6 address"
    );
    assert!(
        records
            .iter()
            .any(|r| r["sourceIPAddress"] == "AWS Internal")
    );
    assert!(
        records
            .iter()
            .any(|r| r["eventSource"] == "monitoring.amazonaws.com")
    );
    assert!(
        records
            .iter()
            .any(|r| r["userAgent"].as_str().is_some_and(|ua| !ua.is_ascii())),
        "no non-ASCII user agent"
    );
    assert!(records.iter().any(|r| r["errorCode"].is_string()));
    assert!(
        records
            .iter()
            .any(|r| r["addendum"]["reason"] == "DELIVERY_DELAY")
            || records.len() < 5_000
    );

    let read_only = records.iter().filter(|r| r["readOnly"] == true).count();
    assert!(
        read_only * 10 > records.len() * 7,
        "only {read_only} of {} records are read-only",
        records.len()
    );
    let largest = records.iter().map(|r| r.to_string().len()).max().unwrap();
    assert!(largest > 6_000, "largest record is {largest} bytes");
}

#[test]
fn records_are_older_than_their_file() {
    let mut cfg = small_config();
    cfg.target_compressed_bytes = 100_000;
    cfg.attack_scenario = false;
    let dir = tempfile::tempdir().unwrap();
    generate_tree(dir.path(), &cfg).unwrap();
    for (key, bytes) in read_tree(dir.path())
        .iter()
        .filter(|(key, _)| !key.contains("Digest"))
    {
        let stamp = key.rsplit('_').nth(1).unwrap();
        let delivered = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ")
            .unwrap()
            .and_utc();
        let value: Value = serde_json::from_slice(&gunzip(bytes)).unwrap();
        for record in value["Records"].as_array().unwrap() {
            let time = chrono::DateTime::parse_from_rfc3339(record["eventTime"].as_str().unwrap())
                .unwrap();
            assert!(time < delivered, "{key}: {time} is not before {delivered}");
        }
    }
}

#[test]
fn log_object_has_requested_records() {
    let cfg = CorpusConfig::default();
    let mut rng = StdRng::seed_from_u64(9);
    let body = generate_log_object(&mut rng, &cfg, 500);
    let value: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["Records"].as_array().unwrap().len(), 500);
}

#[test]
fn invalid_config_is_rejected() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("out");
    let cases: Vec<(CorpusConfig, &str)> = vec![
        (
            CorpusConfig {
                accounts: vec![],
                ..CorpusConfig::default()
            },
            "no account ids",
        ),
        (
            CorpusConfig {
                accounts: vec!["12345".to_string()],
                ..CorpusConfig::default()
            },
            "invalid account id",
        ),
        (
            CorpusConfig {
                regions: vec![],
                ..CorpusConfig::default()
            },
            "no regions",
        ),
        (
            CorpusConfig {
                days: 0,
                ..CorpusConfig::default()
            },
            "days",
        ),
        (
            CorpusConfig {
                duplicate_fraction: 0.9,
                ..CorpusConfig::default()
            },
            "duplicate fraction",
        ),
        (
            CorpusConfig {
                org_id: Some("org-1".to_string()),
                ..CorpusConfig::default()
            },
            "organisation id",
        ),
    ];
    for (cfg, expected) in cases {
        let error = generate_tree(&dir, &cfg).unwrap_err().to_string();
        assert!(
            error.contains(expected),
            "{error:?} does not mention {expected:?}"
        );
    }
    assert!(!dir.exists());
}

#[test]
fn non_empty_output_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), b"x").unwrap();
    let error = generate_tree(dir.path(), &small_config())
        .unwrap_err()
        .to_string();
    assert!(error.contains("not empty"), "{error}");
}

#[test]
fn scenario_rotation_keeps_vendor_role() {
    let cfg = small_config();
    let dir = tempfile::tempdir().unwrap();
    generate_tree(dir.path(), &cfg).unwrap();
    let records = all_records(&read_tree(dir.path()));
    let time = |r: &Value| r["eventTime"].as_str().unwrap().to_string();
    let named =
        |name: &str| -> Vec<&Value> { records.iter().filter(|r| r["eventName"] == name).collect() };

    // The leaked key is deactivated, and no one uses it afterwards.
    let deactivated = named("UpdateAccessKey");
    assert_eq!(deactivated.len(), 1);
    assert_eq!(
        deactivated[0]["requestParameters"]["accessKeyId"],
        LEAKED_KEY
    );
    assert_eq!(deactivated[0]["requestParameters"]["status"], "Inactive");
    let cutoff = time(deactivated[0]);
    let late_uses = records
        .iter()
        .filter(|r| r["userIdentity"]["accessKeyId"] == LEAKED_KEY && time(r) > cutoff)
        .count();
    assert_eq!(late_uses, 0);
    // Its replacement is minted before; the pipeline may be idle until the
    // end of this small tree, so its use is not required here.
    let minted = named("CreateAccessKey")
        .into_iter()
        .find(|r| r["responseElements"]["accessKey"]["accessKeyId"] == ROTATED_KEY)
        .unwrap();
    assert!(time(minted) < cutoff);

    // CreateRole carries the trust policy as JSON in the request and
    // URL-encoded in the response, as IAM logs it.
    let created = named("CreateRole")
        .into_iter()
        .find(|r| r["requestParameters"]["roleName"] == ATTACKER_ROLE)
        .unwrap();
    let request = created["requestParameters"]["assumeRolePolicyDocument"]
        .as_str()
        .unwrap();
    let encoded = created["responseElements"]["role"]["assumeRolePolicyDocument"]
        .as_str()
        .unwrap();
    assert!(encoded.starts_with("%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22"));
    let decoded = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .unwrap();
    assert_eq!(decoded, request);
    assert!(request.contains(&format!("arn:aws:iam::{EXTERNAL_ACCOUNT}:root")));

    // The vendor's role shows only as the role owner's copy, and is still
    // assumed after the rotation.
    let vendor: Vec<&Value> = named("AssumeRole")
        .into_iter()
        .filter(|r| r["userIdentity"]["accountId"] == VENDOR_ADMIN_ACCOUNT)
        .collect();
    assert_eq!(vendor.len(), 6);
    for record in &vendor {
        assert_eq!(record["userIdentity"]["type"], "AWSAccount");
        assert!(record["sharedEventID"].is_string());
        assert_eq!(record["recipientAccountId"], "012345678901");
    }
    assert!(vendor.iter().any(|r| time(r) > cutoff));
}
