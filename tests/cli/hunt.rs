//! `trailhound hunt` and `trailhound rules list` through the real binary.
//! Ground truth comes from the public logs' documentation and from jq
//! counts over the input files, never from trailhound's output.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use serde_json::Value;

use crate::common::*;

/// Runs `hunt --format jsonl` with extra arguments and returns the findings.
fn hunt_jsonl(store: &Store, extra: &[&str]) -> (Run, Vec<Value>) {
    let mut args = vec!["hunt", "--format", "jsonl"];
    args.extend_from_slice(extra);
    let run = store.run(&args);
    let findings = run.jsonl();
    (run, findings)
}

fn by_rule<'a>(findings: &'a [Value], rule: &str) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|finding| finding["rule_id"] == rule)
        .collect()
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "info" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        other => panic!("unknown severity {other}"),
    }
}

const ATTACKER_KEY: &str = "AKIATFQR7NSC8Q4X20BJ";

fn invictus_findings() -> Vec<Value> {
    let store = Store::new();
    store.ingest_ok(&[realdata("invictus-aws")]);
    let (run, findings) = hunt_jsonl(&store, &["--min-severity", "info"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    findings
}

#[test]
fn invictus_new_admin_user() {
    let findings = invictus_findings();
    // The attacker created malicious-iam-user and attached AdministratorAccess.
    let chains = by_rule(&findings, "C01");
    let admin_user = chains
        .iter()
        .find(|finding| finding["target"] == "malicious-iam-user")
        .expect("C01 on malicious-iam-user");
    assert_eq!(admin_user["lineage_root_access_key_id"], ATTACKER_KEY);
    assert_eq!(admin_user["access_key_id"], ATTACKER_KEY);
    assert_eq!(admin_user["severity"], "critical");
}

#[test]
fn invictus_backdoor_role_trust() {
    let findings = invictus_findings();
    // UpdateAssumeRolePolicy trusting external account 193672423079.
    let trust = by_rule(&findings, "P05");
    assert!(!trust.is_empty());
    for finding in &trust {
        assert_eq!(finding["lineage_root_access_key_id"], ATTACKER_KEY);
        assert!(severity_rank(finding["severity"].as_str().unwrap()) >= 3);
    }
    let backdoor = by_rule(&findings, "C02");
    assert!(
        backdoor
            .iter()
            .any(|finding| finding["lineage_root_access_key_id"] == ATTACKER_KEY)
    );
}

#[test]
fn invictus_login_profile_takeover() {
    let findings = invictus_findings();
    let takeover = by_rule(&findings, "C04");
    // CreateLoginProfile then ConsoleLogin by stratus-red-team-nmfalu-gfjyeaypjt.
    let chain = takeover
        .iter()
        .find(|finding| finding["target"] == "stratus-red-team-nmfalu-gfjyeaypjt")
        .expect("C04 on the user given a password");
    assert_eq!(chain["lineage_root_access_key_id"], ATTACKER_KEY);
    let profiles = by_rule(&findings, "P03");
    assert_eq!(
        profiles.len(),
        2,
        "two CreateLoginProfile calls on other users"
    );
}

#[test]
fn invictus_trail_tampering() {
    let findings = invictus_findings();
    let records = realdata_records("invictus-aws");
    // jq: StopLogging or DeleteTrail records, failed ones included.
    let expected: BTreeSet<String> = records
        .iter()
        .filter(|record| {
            matches!(
                record["eventName"].as_str(),
                Some("StopLogging" | "DeleteTrail")
            )
        })
        .map(|record| text(&record["eventID"]))
        .collect();
    assert!(expected.len() >= 4);
    let found: BTreeSet<String> = by_rule(&findings, "DE01")
        .iter()
        .flat_map(|finding| {
            finding["event_ids"]
                .as_str()
                .unwrap()
                .split(' ')
                .map(str::to_string)
        })
        .collect();
    assert_eq!(found, expected);
    for finding in by_rule(&findings, "DE01") {
        assert_eq!(finding["lineage_root_access_key_id"], ATTACKER_KEY);
    }
    let selectors = by_rule(&findings, "DE02");
    assert!(!selectors.is_empty());
}

#[test]
fn invictus_failed_attempt_lower() {
    let findings = invictus_findings();
    // A failed StopLogging is reported, below a successful DeleteTrail of the same rule.
    let failed: Vec<&Value> = by_rule(&findings, "DE01")
        .into_iter()
        .filter(|finding| {
            finding["summary"]
                .as_str()
                .unwrap()
                .contains("TrailNotFoundException")
        })
        .collect();
    assert!(!failed.is_empty());
    for finding in failed {
        assert!(
            finding["summary"]
                .as_str()
                .unwrap()
                .contains("-1 failed attempt")
        );
    }
}

/// Expected rule ids per Stratus technique file, from the catalog: each file
/// must yield at least one finding of one of these rules.
fn stratus_expectations() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("aws.persistence.iam-backdoor-role", &["P05"][..]),
        ("aws.persistence.iam-backdoor-user", &["P02"][..]),
        ("aws.persistence.iam-create-admin-user", &["C01"][..]),
        ("aws.persistence.iam-create-backdoor-role", &["C02"][..]),
        (
            "aws.persistence.iam-create-user-login-profile",
            &["P03"][..],
        ),
        ("aws.persistence.lambda-backdoor-function", &["P09"][..]),
        ("aws.persistence.lambda-layer-extension", &["P12"][..]),
        ("aws.persistence.lambda-overwrite-code", &["P11"][..]),
        (
            "aws.persistence.rolesanywhere-create-trust-anchor",
            &["P07"][..],
        ),
        ("aws.persistence.sts-federation-token", &["P06"][..]),
        (
            "aws.privilege-escalation.iam-update-user-login-profile",
            &["CP01"][..],
        ),
        (
            "aws.credential-access.ec2-get-password-data",
            &["EX04-PASSWORD"][..],
        ),
        (
            "aws.credential-access.ec2-steal-instance-credentials",
            &["CP06", "CP07"][..],
        ),
        (
            "aws.credential-access.secretsmanager-batch-retrieve-secrets",
            &["EX04-BATCH"][..],
        ),
        (
            "aws.credential-access.secretsmanager-retrieve-secrets",
            &["EX04"][..],
        ),
        (
            "aws.credential-access.ssm-retrieve-securestring-parameters",
            &["EX04-SSM"][..],
        ),
        ("aws.defense-evasion.cloudtrail-delete", &["DE01"][..]),
        (
            "aws.defense-evasion.cloudtrail-event-selectors",
            &["DE02"][..],
        ),
        ("aws.defense-evasion.cloudtrail-stop", &["DE01"][..]),
        ("aws.defense-evasion.dns-delete-logs", &["DE08"][..]),
        ("aws.defense-evasion.organizations-leave", &["DE10"][..]),
        ("aws.defense-evasion.vpc-remove-flow-logs", &["DE08"][..]),
    ])
}

#[test]
fn stratus_recall_per_technique() {
    let folder = realdata("stratus-detonations");
    let expectations = stratus_expectations();
    let in_scope: Vec<String> = fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_string))
        .filter(|name| {
            [
                "persistence",
                "privilege-escalation",
                "credential-access",
                "defense-evasion",
            ]
            .iter()
            .any(|tactic| name.starts_with(&format!("aws.{tactic}.")))
        })
        .collect();
    assert_eq!(
        in_scope.len(),
        expectations.len(),
        "every in-scope file has an expectation"
    );

    let mut missed = Vec::new();
    for technique in &in_scope {
        let expected = expectations[technique.as_str()];
        let store = Store::new();
        store.ingest_ok(&[folder.join(format!("{technique}.json"))]);
        let (run, findings) = hunt_jsonl(&store, &["--min-severity", "info"]);
        let found = findings
            .iter()
            .any(|finding| expected.iter().any(|rule| finding["rule_id"] == *rule));
        if !found {
            missed.push(format!(
                "{technique}: expected {expected:?}, exit {:?}",
                run.code
            ));
        }
    }
    assert!(missed.is_empty(), "missed techniques: {missed:#?}");
}

#[test]
fn benign_no_high_findings() {
    let store = Store::new();
    store.ingest_ok(&[fixture("benign")]);
    let (run, findings) = hunt_jsonl(&store, &["--min-severity", "info"]);
    assert!(run.code == Some(0) || run.code == Some(1), "{}", run.stderr);
    for finding in &findings {
        let severity = finding["severity"].as_str().unwrap();
        assert!(
            severity_rank(severity) < 3,
            "benign finding at {severity}: {finding}"
        );
    }
}

#[test]
fn benign_iac_admin_role_at_most_medium() {
    let store = Store::new();
    store.ingest_ok(&[fixture("benign")]);
    let (_, findings) = hunt_jsonl(&store, &["--min-severity", "info"]);
    // The pipeline attaches AdministratorAccess to platform-admin.
    let attach = by_rule(&findings, "PE01");
    let admin = attach
        .iter()
        .find(|finding| finding["target"] == "platform-admin")
        .expect("the admin attach is still reported");
    assert_eq!(admin["severity"], "medium");
}

#[test]
fn benign_high_only_exits_one() {
    let store = Store::new();
    store.ingest_ok(&[fixture("benign")]);
    let run = store.run(&["hunt", "--min-severity", "high"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn org_accounts_file_validated() {
    let store = Store::new();
    store.ingest_ok(&[fixture("benign")]);
    let file = store.scratch("org").join("org.txt");
    fs::write(&file, "444455556666\nnot-an-account\n").unwrap();
    let run = store.run(&["hunt", "--org-accounts", file.to_str().unwrap()]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
}

#[test]
fn formats_agree_on_findings() {
    let store = Store::new();
    store.ingest_ok(&[realdata(
        "stratus-detonations/aws.persistence.iam-create-admin-user.json",
    )]);
    let (_, lines) = hunt_jsonl(&store, &[]);
    let json = store.run(&["hunt", "--format", "json"]);
    let array: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(array, lines);
    let csv = store.run(&["hunt", "--format", "csv"]);
    assert_eq!(csv.stdout.lines().count(), lines.len() + 1);
    assert!(
        csv.stdout
            .starts_with("rule_id,title,severity,technique,first_event_time")
    );
    let table = store.run(&["hunt"]);
    assert_eq!(table.code, Some(0));
    assert!(
        table.stdout.contains("== lineage root "),
        "{}",
        table.stdout
    );
}

#[test]
fn findings_sorted_by_time() {
    let findings = invictus_findings();
    let times: Vec<&str> = findings
        .iter()
        .map(|finding| finding["first_event_time"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    for finding in &findings {
        for column in [
            "rule_id",
            "title",
            "severity",
            "technique",
            "first_event_time",
            "last_event_time",
            "event_ids",
            "principal_arn",
            "access_key_id",
            "lineage_root_access_key_id",
            "target",
            "account_id",
            "region",
            "source_ips",
            "summary",
        ] {
            assert!(finding.get(column).is_some(), "missing {column}");
        }
    }
}

#[test]
fn rules_list_shows_builtin() {
    let store = Store::new();
    let run = store.run(&["rules", "list", "--format", "jsonl"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rules = run.jsonl();
    let ids: BTreeSet<&str> = rules
        .iter()
        .map(|rule| rule["id"].as_str().unwrap())
        .collect();
    let files = fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/detect/rules"))
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|ext| ext == "yaml")
        })
        .count();
    assert_eq!(ids.len(), files);
    assert!(ids.contains("C01"));
}

#[test]
fn user_rule_invalid_names_file() {
    let store = Store::new();
    let dir = store.scratch("rules");
    fs::write(
        dir.join("bad.yaml"),
        "id: U01\ntitle: t\ndescription: d\nseverity: high\ntechnique: T1098\ntactic: persistence\nmatch:\n  event_source: iam.amazonaws.com\n  where:\n    - {path: requestParameters.x, test: no_such_test}\n",
    )
    .unwrap();
    let run = store.run(&["rules", "list", "--rules", dir.to_str().unwrap()]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("bad.yaml"), "{}", run.stderr);
    assert!(run.stderr.contains("match.where[0].test"), "{}", run.stderr);
}

#[test]
fn user_rule_follow_up_column_checked() {
    let store = Store::new();
    let dir = store.scratch("rules");
    fs::write(
        dir.join("follow.yaml"),
        "id: U02\ntitle: t\ndescription: d\nseverity: medium\ntechnique: T1562.008\ntactic: defense-evasion\nmatch:\n  event_source: ec2.amazonaws.com\n  event_name: DeleteFlowLogs\nfollowed_by:\n  event_name: DeleteVpc\n  within_minutes: 60\n  same: [vpc_endpoint_id]\n  change: -2\n  reason: teardown\n",
    )
    .unwrap();
    let run = store.run(&["rules", "list", "--rules", dir.to_str().unwrap()]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("follow.yaml"), "{}", run.stderr);
    assert!(run.stderr.contains("followed_by.same"), "{}", run.stderr);
    assert!(run.stderr.contains("vpc_endpoint_id"), "{}", run.stderr);
}

#[test]
fn user_rule_bounds_checked() {
    let store = Store::new();
    let head =
        "title: t\ndescription: d\nseverity: medium\ntechnique: T1098\ntactic: persistence\n";
    let cases = [
        (
            "change.yaml",
            format!(
                "id: U03\n{head}match:\n  event_source: iam.amazonaws.com\nadjust:\n  - when: []\n    change: 100\n    reason: r\n"
            ),
            "adjust[0].change",
        ),
        (
            "self.yaml",
            format!(
                "id: U04\n{head}correlation:\n  window_minutes: 10\n  steps:\n    - {{rules: [U04], key: target}}\n    - {{rules: [P01], key: target}}\n"
            ),
            "correlation.steps[0].rules",
        ),
    ];
    for (file, text, field) in cases {
        let dir = store.scratch(file);
        fs::write(dir.join(file), text).unwrap();
        let run = store.run(&["rules", "list", "--rules", dir.to_str().unwrap()]);
        assert_eq!(run.code, Some(2), "{file}");
        assert!(run.stderr.contains(file), "{}", run.stderr);
        assert!(run.stderr.contains(field), "{}", run.stderr);
    }
}

#[test]
fn missing_rules_folder_reason_once() {
    let store = Store::new();
    let run = store.run(&["rules", "list", "--rules", "/nonexistent-rules"]);
    assert_eq!(run.code, Some(2));
    assert_eq!(
        run.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn user_rule_finds_events() {
    let store = Store::new();
    store.ingest_ok(&[fixture("benign")]);
    let dir = store.scratch("rules");
    fs::write(
        dir.join("mfa.yaml"),
        "id: U-MFA\ntitle: MFA enabled\ndescription: test rule\nseverity: medium\ntechnique: T1556.006\ntactic: persistence\nmatch:\n  event_source: iam.amazonaws.com\n  event_name: EnableMFADevice\n  target: requestParameters.userName\n",
    )
    .unwrap();
    let (run, findings) = hunt_jsonl(&store, &["--rules", dir.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // The fixture has one EnableMFADevice record, for bob.
    let own = by_rule(&findings, "U-MFA");
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["target"], "bob");
}

#[test]
fn instance_credentials_from_private_address_are_not_cp06() {
    let store = Store::new();
    let dir = store.scratch("cp06");
    let record = |event_id: &str, ip: &str| {
        serde_json::json!({
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": "AROAEXAMPLE:i-0abc123",
                "arn": "arn:aws:sts::111122223333:assumed-role/app/i-0abc123",
                "accountId": "111122223333",
                "accessKeyId": "ASIAEXAMPLEINSTANCE1",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/app"}}
            },
            "eventTime": "2024-05-01T10:00:00Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": "ListBuckets",
            "awsRegion": "us-east-1",
            "sourceIPAddress": ip,
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": null,
            "responseElements": null,
            "eventID": event_id,
            "eventType": "AwsApiCall",
            "recipientAccountId": "111122223333"
        })
    };
    // The instance's own VPC addresses, then one public address.
    let records = vec![
        record("e-private-10", "10.20.30.40"),
        record("e-private-172", "172.31.5.6"),
        record("e-private-192", "192.168.1.2"),
        record("e-public", "198.51.100.44"),
    ];
    std::fs::write(
        dir.join("cp06.json"),
        serde_json::to_vec(&serde_json::json!({"Records": records})).unwrap(),
    )
    .unwrap();
    store.ingest_ok(&[dir.join("cp06.json")]);
    let (run, findings) = hunt_jsonl(&store, &["--min-severity", "info"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let cp06 = by_rule(&findings, "CP06");
    assert_eq!(cp06.len(), 1, "{cp06:?}");
    assert_eq!(cp06[0]["event_ids"], "e-public");
}
