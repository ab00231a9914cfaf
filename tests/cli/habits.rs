//! The severity model's history checks through the real binary, on
//! `tests/fixtures/habits`. The expected severities are worked out by hand
//! from the fixture's script and the documented model, not taken from a run.

use serde_json::Value;

use crate::common::*;

const CI_KEY: &str = "AKIAHABITSCIBOT00001";

fn habits_findings() -> Vec<Value> {
    let store = Store::new();
    store.ingest_ok(&[fixture("habits")]);
    let run = store.run(&["hunt", "--format", "jsonl", "--min-severity", "info"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.jsonl()
}

/// Findings of `rule`, as (hour of the first event, severity, summary).
fn of_rule(findings: &[Value], rule: &str) -> Vec<(u32, String, String)> {
    let mut rows: Vec<(u32, String, String)> = findings
        .iter()
        .filter(|finding| finding["rule_id"] == rule)
        .map(|finding| {
            let time = finding["first_event_time"].as_str().unwrap();
            (
                time[11..13].parse().unwrap(),
                finding["severity"].as_str().unwrap().to_string(),
                finding["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// Returns the fixture record with this eventID, read from the file.
fn fixture_record(event_id: &str) -> Value {
    let text = std::fs::read_to_string(fixture("habits").join("habits.json")).unwrap();
    let records: Value = serde_json::from_str(&text).unwrap();
    records["Records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|record| record["eventID"] == event_id)
        .unwrap()
        .clone()
}

fn severities(rows: &[(u32, String, String)]) -> Vec<(u32, &str)> {
    rows.iter()
        .map(|(hour, severity, _)| (*hour, severity.as_str()))
        .collect()
}

#[test]
fn p11_lowered_after_two_usual_hours() {
    let findings = habits_findings();
    let code = of_rule(&findings, "P11");
    // P11 is medium. Hours 0 and 1 have fewer than two earlier P11 findings
    // of ci-bot with the same client. Hours 2–5 and 13 have two or more,
    // because the two aws-cli versions are one client. Hour 14 is the Kali
    // client, new to the key and from a new address after 14 hours of
    // history: +1.
    assert_eq!(
        severities(&code),
        vec![
            (0, "medium"),
            (1, "medium"),
            (2, "low"),
            (3, "low"),
            (4, "low"),
            (5, "low"),
            (13, "low"),
            (14, "high"),
        ]
    );
    assert!(
        code[2]
            .2
            .contains("usual for this principal: 2 earlier findings"),
        "{}",
        code[2].2
    );
    assert!(code[6].2.contains("6 earlier findings"), "{}", code[6].2);
    assert!(
        code[7].2.contains("new source IP and a new client"),
        "{}",
        code[7].2
    );
}

#[test]
fn cp09_weighed_by_history_and_client() {
    let findings = habits_findings();
    let pairs = of_rule(&findings, "CP09");
    // The key's first address (hour 0) is no finding. Hours 1–5: under 12
    // hours of history, lowered. Hour 13: the runner's client, which ci-bot
    // used in the store's first 12 hours, lowered. Hour 14: new address and new
    // client, at the rule's own medium.
    assert_eq!(
        severities(&pairs),
        vec![
            (1, "low"),
            (2, "low"),
            (3, "low"),
            (4, "low"),
            (5, "low"),
            (13, "low"),
            (14, "medium"),
        ]
    );
    assert!(pairs[0].2.contains("less than 12 hours"), "{}", pairs[0].2);
    assert!(
        pairs[5].2.contains("a client trusted for the key's user"),
        "{}",
        pairs[5].2
    );
    for finding in findings
        .iter()
        .filter(|finding| finding["rule_id"] == "CP09")
    {
        assert_eq!(finding["access_key_id"], CI_KEY);
    }
}

#[test]
fn iac_discount_needs_known_tool() {
    let findings = habits_findings();
    let attach: Vec<&Value> = findings
        .iter()
        .filter(|finding| finding["rule_id"] == "PE01")
        .filter(|finding| {
            finding["summary"]
                .as_str()
                .unwrap()
                .starts_with("AttachRolePolicy")
        })
        .collect();
    assert_eq!(attach.len(), 3);

    // tf-runner used Terraform in the store's first 12 hours, its baseline,
    // so PE01 (high) drops to medium.
    let pipeline = attach
        .iter()
        .find(|finding| finding["target"] == "app-exec")
        .unwrap();
    assert_eq!(pipeline["severity"], "medium");
    assert!(
        pipeline["summary"]
            .as_str()
            .unwrap()
            .contains("IaC or CI tool trusted for this principal")
    );

    // ops-user worked with aws-cli on macOS from hour 0; its first Terraform
    // call comes at hour 13, after the baseline.
    let human = attach
        .iter()
        .find(|finding| finding["target"] == "batch-exec")
        .unwrap();
    assert_eq!(human["severity"], "high");
    assert!(!human["summary"].as_str().unwrap().contains("IaC"));

    // The next day Terraform is 14 hours old for ops-user but was used in
    // two hours only, fewer than the three that make a client trusted.
    let later = attach
        .iter()
        .find(|finding| finding["target"] == "etl-exec")
        .unwrap();
    assert_eq!(later["severity"], "high");
    assert!(!later["summary"].as_str().unwrap().contains("IaC"));
}

#[test]
fn rotation_lowers_key_and_chain() {
    let findings = habits_findings();
    let created: Vec<&Value> = findings
        .iter()
        .filter(|finding| finding["rule_id"] == "P02")
        .collect();
    assert_eq!(created.len(), 3);
    // admin-ann switches report-bot's old key off 10 minutes later: P02
    // (high) and the C03 chain that starts at it (high) are both medium.
    let rotation = created
        .iter()
        .find(|finding| finding["target"] == "report-bot")
        .unwrap();
    assert_eq!(rotation["severity"], "medium");

    assert!(
        rotation["summary"].as_str().unwrap().contains(
            "key rotation: report-bot's key AKIAHABITSREPORT0001 switched off 10 min later"
        )
    );
    // admin-bob's key for backup-svc rotates nothing: C03 stays high, which
    // implicates bob's lineage and raises P02 to critical.
    let added = created
        .iter()
        .find(|finding| finding["target"] == "backup-svc")
        .unwrap();
    assert_eq!(added["severity"], "critical");

    let chains: Vec<(&str, &str)> = findings
        .iter()
        .filter(|finding| finding["rule_id"] == "C03")
        .map(|finding| {
            (
                finding["lineage_root_access_key_id"].as_str().unwrap(),
                finding["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        chains.contains(&("AKIAHABITSADMINANN01", "medium")),
        "{chains:?}"
    );
    assert!(
        chains.contains(&("AKIAHABITSADMINBOB01", "high")),
        "{chains:?}"
    );

    // admin-cat switches build-bot's old key back on a minute after turning
    // it off: no rotation, so P02 stays high.
    let faked = created
        .iter()
        .find(|finding| finding["target"] == "build-bot")
        .unwrap();
    assert_eq!(faked["severity"], "high");
    assert!(!faked["summary"].as_str().unwrap().contains("rotation"));
}

#[test]
fn bunched_calls_count_once() {
    let findings = habits_findings();
    let users = of_rule(&findings, "P01");
    // burst-admin's CreateUser at 0:59:59 and 1:00:00 are one second apart,
    // so the one at 2:00:00 has one spread-out predecessor, not two.
    assert_eq!(users.len(), 3);
    for (_, _, summary) in &users {
        assert!(!summary.contains("usual"), "{summary}");
    }
}

#[test]
fn outside_caller_history_spans_session_names() {
    let findings = habits_findings();
    let outside = of_rule(&findings, "CP02-EXTERNAL");
    // CP02-EXTERNAL is high. The vendor picks a new session name each hour,
    // which does not reset its history: from hour 2 on it has two earlier
    // findings. The other account's single call stays high.
    assert_eq!(
        severities(&outside),
        vec![
            (0, "high"),
            (1, "high"),
            (2, "medium"),
            (3, "medium"),
            (4, "medium"),
            (8, "high"),
        ]
    );
    assert!(
        outside[0]
            .2
            .contains("AROAOUTSIDE9999:audit-scan-0 of account 999988887777"),
        "{}",
        outside[0].2
    );
}

#[test]
fn since_keeps_history_before_window() {
    let store = Store::new();
    store.ingest_ok(&[fixture("habits")]);
    let run = store.run(&[
        "hunt",
        "--format",
        "jsonl",
        "--min-severity",
        "info",
        "--since",
        "2026-03-02T14:00:00Z",
        "--until",
        "2026-03-02T17:30:00Z",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let findings = run.jsonl();
    // Five findings lie in the window: the hour-14 Kali call (two
    // findings), ops-user's GetCallerIdentity and net-admin's two flow-log
    // deletions. Judged against the 14 hours before it, the Kali call's
    // address and client are both new.
    let rows: Vec<(&str, &str)> = findings
        .iter()
        .map(|finding| {
            (
                finding["rule_id"].as_str().unwrap(),
                finding["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("CP09", "medium"),
            ("DB03", "low"),
            ("P11", "high"),
            ("DE08", "info"),
            ("DE08", "medium"),
        ]
    );
}

#[test]
fn pe04_knows_groups_made_admin() {
    let findings = habits_findings();
    // ops-team has no "admin" in its name, but AdministratorAccess was
    // attached to it an hour before dev-dan joined. readers got no grant.
    let joins: Vec<&Value> = findings
        .iter()
        .filter(|finding| finding["rule_id"] == "PE04")
        .collect();
    assert_eq!(joins.len(), 1, "{joins:?}");
    assert_eq!(joins[0]["target"], "dev-dan");
    assert!(
        joins[0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("AddUserToGroup by arn:aws:iam::111122223333:user/admin-ann")
    );
    let record = fixture_record(joins[0]["event_ids"].as_str().unwrap());
    assert_eq!(record["requestParameters"]["groupName"], "ops-team");
}

#[test]
fn flow_logs_teardown_lowered() {
    let findings = habits_findings();
    let deletions = of_rule(&findings, "DE08");
    // DE08 is medium. The hour-15 deletion is followed by DeleteVpc from
    // the same principal 20 minutes later (-2); the hour-17 one is not.
    assert_eq!(severities(&deletions), vec![(15, "info"), (17, "medium")]);
    assert!(deletions[0].2.contains("teardown"), "{}", deletions[0].2);
}

#[test]
fn pe01_knows_custom_admin_policies() {
    let findings = habits_findings();
    // ops-everything allows * on *, so attaching it is PE01; ops-reader
    // only reads S3, so attaching it is not.
    let attached: Vec<&str> = findings
        .iter()
        .filter(|finding| finding["rule_id"] == "PE01" && finding["target"] == "helper")
        .map(|finding| finding["summary"].as_str().unwrap())
        .collect();
    assert_eq!(attached.len(), 1, "{attached:?}");
    let finding = findings
        .iter()
        .find(|finding| finding["rule_id"] == "PE01" && finding["target"] == "helper")
        .unwrap();
    let record = fixture_record(finding["event_ids"].as_str().unwrap());
    assert_eq!(
        record["requestParameters"]["policyArn"],
        "arn:aws:iam::111122223333:policy/ops-everything"
    );
}

#[test]
fn lineage_raise_skips_routine_before_it() {
    let findings = habits_findings();
    // admin-bob's lineage is implicated from 06:10 (C03). Its secret read
    // at 02:10 ended hours before and keeps EX04-SSM's medium; the one at
    // 05:30 falls within the hour before and is raised to high.
    let reads: Vec<(String, String, String)> = findings
        .iter()
        .filter(|finding| {
            finding["rule_id"] == "EX04-SSM"
                && finding["lineage_root_access_key_id"] == "AKIAHABITSADMINBOB01"
        })
        .map(|finding| {
            (
                finding["first_event_time"].as_str().unwrap().to_string(),
                finding["severity"].as_str().unwrap().to_string(),
                finding["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert_eq!(reads[0].0, "2026-03-02T02:10:00Z");
    assert_eq!(reads[0].1, "medium");
    assert!(!reads[0].2.contains("implicated"), "{}", reads[0].2);
    assert_eq!(reads[1].0, "2026-03-02T05:30:00Z");
    assert_eq!(reads[1].1, "high");
    assert!(
        reads[1]
            .2
            .contains("lineage of AKIAHABITSADMINBOB01 implicated")
    );
}
