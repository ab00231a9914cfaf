//! `trailhound audit` on hand-written fixtures (tests/fixtures/audit, whose
//! README lists the expected figures, counted by hand from the records) and
//! on the bundled sample (figures counted with jq, commands beside them).

use std::sync::OnceLock;

use serde_json::Value;

use crate::common::*;

fn fixture_store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = Store::new();
        store.ingest_ok(&[fixture("audit")]);
        store
    })
}

fn audit_json(store: &Store, extra: &[&str]) -> Value {
    let mut args = vec!["audit", "--format", "json"];
    args.extend_from_slice(extra);
    let run = store.run(&args);
    assert_eq!(run.code, Some(0), "audit failed:\n{}", run.stderr);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("audit output is not JSON ({error}):\n{}", run.stdout))
}

fn fixture_audit() -> &'static Value {
    static AUDIT: OnceLock<Value> = OnceLock::new();
    AUDIT.get_or_init(|| {
        audit_json(
            fixture_store(),
            &[
                "--org-accounts",
                fixture("audit/org-accounts.txt").to_str().unwrap(),
            ],
        )
    })
}

fn list<'a>(audit: &'a Value, key: &str) -> &'a Vec<Value> {
    audit[key]
        .as_array()
        .unwrap_or_else(|| panic!("audit lacks the list {key}: {audit}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(text)
        .collect()
}

fn grant<'a>(audit: &'a Value, name: &str, via: &str) -> &'a Value {
    list(audit, "admin_grants")
        .iter()
        .find(|grant| grant["principal_name"] == name && grant["via"] == via)
        .unwrap_or_else(|| panic!("no {via} grant for {name}"))
}

fn by_field<'a>(rows: &'a [Value], field: &str, value: &str) -> &'a Value {
    rows.iter()
        .find(|row| row[field] == value)
        .unwrap_or_else(|| panic!("no row with {field} = {value}"))
}

#[test]
fn grants_fixture_count() {
    // Alice, bob (inline), the admins group, carol (membership), the
    // backdoor role and frank (inline "*:*"). The read-only attachment, the
    // scoped inline policy, the non-admin group and erin's denied
    // attachment are not grants; the re-delivered copy counts once.
    let grants = list(fixture_audit(), "admin_grants");
    let mut names: Vec<String> = grants.iter().map(|g| text(&g["principal_name"])).collect();
    names.sort();
    assert_eq!(
        names,
        ["admins", "alice", "backdoor", "bob", "carol", "frank"]
    );
}

#[test]
fn grants_fixture_removals() {
    let audit = fixture_audit();
    let alice = grant(audit, "alice", "managed_policy");
    assert_eq!(alice["removed"]["event_name"], "DetachUserPolicy");
    assert_eq!(alice["removed"]["time"], "2024-03-01T11:00:00Z");
    let carol = grant(audit, "carol", "group_membership");
    assert_eq!(carol["source"], "admins");
    assert_eq!(carol["removed"]["event_name"], "RemoveUserFromGroup");
    let frank = grant(audit, "frank", "inline_policy");
    assert_eq!(frank["removed"]["event_name"], "DeleteUser");
    for (name, via) in [
        ("bob", "inline_policy"),
        ("admins", "managed_policy"),
        ("backdoor", "managed_policy"),
    ] {
        assert!(
            grant(audit, name, via)["removed"].is_null(),
            "{name} kept its grant"
        );
    }
}

#[test]
fn grants_fixture_who_and_when() {
    let audit = fixture_audit();
    let backdoor = grant(audit, "backdoor", "managed_policy");
    assert_eq!(backdoor["principal_kind"], "role");
    assert_eq!(backdoor["time"], "2024-03-01T10:36:00Z");
    assert_eq!(backdoor["principal_created"], "2024-03-01T10:35:00Z");
    assert_eq!(
        backdoor["granted_by"],
        "arn:aws:iam::111122223333:user/root-ops"
    );
    assert_eq!(backdoor["granted_by_access_key"], "AKIAFIXTUREADMIN0001");
    assert_eq!(
        backdoor["source"],
        "arn:aws:iam::aws:policy/AdministratorAccess"
    );
    let bob = grant(audit, "bob", "inline_policy");
    assert_eq!(bob["source"], "everything");
    assert_eq!(bob["account_id"], "111122223333");
}

#[test]
fn cross_account_fixture_rows() {
    let rows = list(fixture_audit(), "cross_account");
    assert_eq!(rows.len(), 3, "{rows:?}");
    let backdoor = by_field(rows, "caller_account", "999988887777");
    assert_eq!(
        backdoor["role_arn"],
        "arn:aws:iam::111122223333:role/backdoor"
    );
    // Two copies of the first assumption count once; the denied one not at all.
    assert_eq!(backdoor["assumptions"], 2);
    assert_eq!(backdoor["first_assumed"], "2024-03-01T12:00:00Z");
    assert_eq!(backdoor["last_assumed"], "2024-03-01T13:00:00Z");
    assert_eq!(backdoor["role_granted_admin"], true);
    assert_eq!(backdoor["outside_org"], true);
    assert_eq!(
        strings(&backdoor["callers"]),
        [
            "AIDAFIXTUREMALLORY01",
            "arn:aws:iam::999988887777:user/mallory"
        ]
    );
    let pipeline = by_field(rows, "caller_account", "555566667777");
    assert_eq!(pipeline["assumptions"], 1);
    assert_eq!(pipeline["outside_org"], false);
    let vendor = by_field(rows, "caller_account", "444433332222");
    assert_eq!(vendor["role_arn"], "arn:aws:iam::111122223333:role/vendor");
    assert_eq!(vendor["outside_org"], true);
    assert_eq!(vendor["role_granted_admin"], false);
}

#[test]
fn outside_org_null_without_file() {
    let audit = audit_json(fixture_store(), &["--section", "cross-account"]);
    for row in list(&audit, "cross_account") {
        assert!(row["outside_org"].is_null(), "{row}");
    }
    assert!(
        audit.get("admin_grants").is_none(),
        "only the chosen section: {audit}"
    );
}

#[test]
fn roles_fixture_last_assumed() {
    let rows = list(fixture_audit(), "roles");
    let mut names: Vec<String> = rows.iter().map(|r| text(&r["role_name"])).collect();
    names.sort();
    assert_eq!(names, ["app", "backdoor", "deploy", "old-role", "vendor"]);

    let app = by_field(rows, "role_name", "app");
    assert_eq!(app["assumptions"], 2);
    assert_eq!(app["last_assumed"], "2024-03-01T09:45:00Z");
    assert_eq!(strings(&app["last_assumed_by"]), ["lambda.amazonaws.com"]);
    assert_eq!(app["session_calls"], 1);
    assert_eq!(app["granted_admin"], false);

    let old = by_field(rows, "role_name", "old-role");
    assert_eq!(old["never_assumed"], true);
    assert_eq!(old["assumptions"], 0);
    assert_eq!(old["last_session_call"], "2024-03-01T08:00:00Z");

    let never: Vec<String> = rows
        .iter()
        .filter(|r| r["never_assumed"] == true)
        .map(|r| text(&r["role_name"]))
        .collect();
    assert_eq!(never, ["old-role"]);
}

#[test]
fn roles_fixture_trust_outsiders() {
    let rows = list(fixture_audit(), "roles");
    let backdoor = by_field(rows, "role_name", "backdoor");
    assert_eq!(
        strings(&backdoor["trusted_outside_accounts"]),
        ["999988887777"]
    );
    assert_eq!(backdoor["trust_changed"], "2024-03-01T10:35:00Z");
    assert_eq!(backdoor["granted_admin"], true);
    assert_eq!(backdoor["assumptions"], 2);
}

#[test]
fn keys_fixture_usage() {
    let rows = list(fixture_audit(), "long_term_keys");
    let ids: Vec<String> = rows.iter().map(|r| text(&r["access_key_id"])).collect();
    assert_eq!(
        ids,
        [
            "AKIAFIXTUREADMIN0001",
            "AKIAFIXTUREALICE0002",
            "AKIAFIXTUREAPPKEY004",
            "AKIAFIXTURECIKEY0003",
            "AKIAFIXTUREMALLORY05",
        ]
    );
    // 14 IAM calls, the denied one included; the re-delivered copy counts once.
    let admin = by_field(rows, "access_key_id", "AKIAFIXTUREADMIN0001");
    assert_eq!(admin["calls"], 14);
    assert_eq!(admin["owner"], "root-ops");
    assert_eq!(admin["first_used"], "2024-03-01T10:00:00Z");
    assert_eq!(admin["last_used"], "2024-03-01T11:25:00Z");
    assert_eq!(strings(&admin["services"]), ["iam.amazonaws.com"]);

    let alice = by_field(rows, "access_key_id", "AKIAFIXTUREALICE0002");
    assert_eq!(alice["calls"], 3);
    assert_eq!(
        strings(&alice["source_ips"]),
        ["203.0.113.5", "203.0.113.6"]
    );
    assert_eq!(
        strings(&alice["services"]),
        ["ec2.amazonaws.com", "s3.amazonaws.com", "sts.amazonaws.com"]
    );
    assert_eq!(alice["first_used"], "2024-03-01T09:30:00Z");
    assert_eq!(alice["likely_hardcoded"], false);

    let mallory = by_field(rows, "access_key_id", "AKIAFIXTUREMALLORY05");
    assert_eq!(mallory["account_id"], "999988887777");
    assert_eq!(mallory["calls"], 1);
}

#[test]
fn keys_fixture_hardcoded_hints() {
    let rows = list(fixture_audit(), "long_term_keys");
    let ci = by_field(rows, "access_key_id", "AKIAFIXTURECIKEY0003");
    assert_eq!(ci["likely_hardcoded"], true);
    assert_eq!(
        strings(&ci["hardcoded_hints"]),
        ["Azure VM kernel in the user agent (hosted CI runner)"]
    );
    let app = by_field(rows, "access_key_id", "AKIAFIXTUREAPPKEY004");
    let hints = strings(&app["hardcoded_hints"]);
    assert!(
        hints.contains(&"Lambda runtime in the user agent".to_string()),
        "{hints:?}"
    );
    assert!(
        hints.contains(&"called through VPC endpoint vpce-0fixture0000001".to_string()),
        "{hints:?}"
    );
    let admin = by_field(rows, "access_key_id", "AKIAFIXTUREADMIN0001");
    assert_eq!(admin["likely_hardcoded"], false);
}

#[test]
fn csv_section_has_header_and_rows() {
    let run = fixture_store().run(&["audit", "--format", "csv", "--section", "grants"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "time");
    assert!(headers.iter().any(|h| h == "removed_by_event"));
    assert_eq!(reader.records().count(), 6);
}

#[test]
fn csv_without_section_is_rejected() {
    let run = fixture_store().run(&["audit", "--format", "csv"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--section"), "{}", run.stderr);
}

#[test]
fn table_has_every_section() {
    let run = fixture_store().run(&["audit"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Polars prints some warnings straight to standard error; none may show.
    assert_eq!(run.stderr, "", "unexpected messages");
    for heading in [
        "Administrator grants (6)",
        "Roles assumed from other accounts (3)",
        "Roles seen, least recently assumed first (5)",
        "Long-term access keys in use (5)",
    ] {
        assert!(
            run.stdout.contains(heading),
            "no {heading:?} in:\n{}",
            run.stdout
        );
    }
}

#[test]
fn invalid_org_file_is_named() {
    let store = fixture_store();
    let bad = store.scratch("org").join("accounts.txt");
    std::fs::write(&bad, "111122223333\nnot-an-account\n").unwrap();
    let run = store.run(&["audit", "--org-accounts", bad.to_str().unwrap()]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("accounts.txt"), "{}", run.stderr);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
}

#[test]
fn window_excludes_later_grants() {
    // Until 10:30 only alice (10:00), bob (10:10), the admins group (10:20)
    // and carol (10:25) were granted, and none was removed yet.
    let audit = audit_json(
        fixture_store(),
        &["--section", "grants", "--until", "2024-03-01T10:30:00Z"],
    );
    let grants = list(&audit, "admin_grants");
    assert_eq!(grants.len(), 4, "{grants:?}");
    assert!(grants.iter().all(|g| g["removed"].is_null()));
}

fn sample_audit() -> &'static Value {
    static AUDIT: OnceLock<Value> = OnceLock::new();
    AUDIT.get_or_init(|| {
        let store = Store::new();
        store.ingest_ok(&[std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs")]);
        let org = store.scratch("org").join("accounts.txt");
        std::fs::write(&org, "823532973928\n069291026422\n").unwrap();
        audit_json(&store, &["--org-accounts", org.to_str().unwrap()])
    })
}

#[test]
fn sample_admin_grants() {
    // jq 'select(.eventSource=="iam.amazonaws.com" and .readOnly==false)'
    // over the sample lists these four grants and one removal.
    let audit = sample_audit();
    let grants = list(audit, "admin_grants");
    assert_eq!(grants.len(), 4, "{grants:?}");
    let backdoor = grant(audit, "svc-backup", "managed_policy");
    assert_eq!(backdoor["time"], "2025-09-16T19:49:43Z");
    assert_eq!(backdoor["granted_by_access_key"], "ASIAEXAMPLEADMIN0001");
    assert!(backdoor["removed"].is_null());
    let role = grant(audit, "support-automation", "managed_policy");
    assert_eq!(role["principal_created"], "2025-09-16T19:50:43Z");
    assert!(role["removed"].is_null());
    let on_call = grant(audit, "bogdan.kowalski", "group_membership");
    assert_eq!(on_call["removed"]["time"], "2025-09-17T10:17:23Z");
    assert!(grant(audit, "platform-admins", "managed_policy")["removed"].is_null());
}

#[test]
fn sample_cross_account() {
    // jq 'select(.eventName=="AssumeRole" and .errorCode==null)
    //   | [.requestParameters.roleArn, .userIdentity.accountId, (.sharedEventID // .eventID)]'
    // | sort -u, counted per role and account.
    let rows = list(sample_audit(), "cross_account");
    let find = |role: &str, account: &str| {
        rows.iter()
            .find(|r| text(&r["role_arn"]).ends_with(role) && r["caller_account"] == account)
            .unwrap_or_else(|| panic!("no row for {role} from {account}"))
    };
    let vendor = find(":role/cloudops-vendor-admin", "318764902215");
    assert_eq!(vendor["assumptions"], 6);
    assert_eq!(vendor["first_assumed"], "2025-09-16T10:19:40Z");
    assert_eq!(vendor["last_assumed"], "2025-09-17T15:49:40Z");
    assert_eq!(vendor["outside_org"], true);
    let attacker = find(":role/support-automation", "444455556666");
    assert_eq!(attacker["assumptions"], 2);
    assert_eq!(attacker["role_granted_admin"], true);
    let chain = find(
        "069291026422:role/OrganizationAccountAccessRole",
        "823532973928",
    );
    assert_eq!(chain["assumptions"], 1);
    assert_eq!(chain["outside_org"], false);
    assert_eq!(
        find(
            "823532973928:role/vendor-monitoring-readonly",
            "464622987310"
        )["assumptions"],
        26
    );
    assert_eq!(
        find(
            "069291026422:role/vendor-monitoring-readonly",
            "464622987310"
        )["assumptions"],
        16
    );
    assert_eq!(rows.len(), 5, "{rows:?}");
}

#[test]
fn sample_trust_and_keys() {
    let audit = sample_audit();
    let roles = list(audit, "roles");
    let deploy_admin = roles
        .iter()
        .find(|r| r["role_name"] == "deploy-admin" && r["account_id"] == "823532973928")
        .expect("deploy-admin is listed");
    assert_eq!(
        strings(&deploy_admin["trusted_outside_accounts"]),
        ["444455556666"]
    );

    let keys = list(audit, "long_term_keys");
    let leaked = by_field(keys, "access_key_id", "AKIAEXAMPLELEAKED001");
    // jq -r 'select(.userIdentity.accessKeyId=="AKIAEXAMPLELEAKED001") | .eventTime' | sort | tail -1
    assert_eq!(leaked["last_used"], "2025-09-17T08:33:42Z");
    assert_eq!(leaked["owner"], "ci-deployer");
    // jq -r 'select(.userIdentity.accessKeyId=="AKIAEXAMPLELEAKED001") | .eventID' | sort -u | wc -l
    assert_eq!(leaked["calls"], 75);
    assert!(strings(&leaked["source_ips"]).contains(&"203.0.113.66".to_string()));
    assert_eq!(leaked["likely_hardcoded"], true);
    let rotated = by_field(keys, "access_key_id", "AKIAEXAMPLEROTATED06");
    assert_eq!(rotated["first_used"], "2025-09-17T09:19:15Z");
    let backdoor = by_field(keys, "access_key_id", "AKIAEXAMPLEBACKUP004");
    assert_eq!(strings(&backdoor["source_ips"]), ["2001:db8:4f2a::17"]);
    assert_eq!(backdoor["likely_hardcoded"], false);
}

#[test]
fn invictus_backdoor_role() {
    // In invictus-aws, bert-jan attaches AdministratorAccess to
    // stratus-red-team-backdoor-r-role at 12:24:10, UpdateAssumeRolePolicy
    // at 12:24:11 adds arn:aws:iam::193672423079:root, and the clean-up puts
    // back the EC2-only trust at 12:28:24, deletes malicious-iam-user at
    // 12:28:24 and detaches the role's policy at 12:28:34 (read with
    // python's json module from the CloudTrail folder).
    let audit = audit_json(
        invictus_store(),
        &["--section", "grants", "--section", "roles"],
    );
    let role = grant(&audit, "stratus-red-team-backdoor-r-role", "managed_policy");
    assert_eq!(role["time"], "2023-07-10T12:24:10Z");
    assert_eq!(
        role["granted_by"],
        "arn:aws:iam::123837392027:user/bert-jan"
    );
    assert_eq!(role["removed"]["event_name"], "DetachRolePolicy");
    let user = grant(&audit, "malicious-iam-user", "managed_policy");
    assert_eq!(user["removed"]["event_name"], "DeleteUser");

    let roles = list(&audit, "roles");
    let backdoor = by_field(roles, "role_name", "stratus-red-team-backdoor-r-role");
    assert_eq!(
        strings(&backdoor["ever_trusted_outside_accounts"]),
        ["193672423079"]
    );
    assert!(strings(&backdoor["trusted_outside_accounts"]).is_empty());
    assert_eq!(backdoor["trust_changed"], "2023-07-10T12:28:24Z");
    assert_eq!(backdoor["granted_admin"], true);
}

#[test]
fn ec2_ranges_flag_addresses() {
    let ranges = fixture("audit/ip-ranges.json");
    let audit = audit_json(
        fixture_store(),
        &[
            "--section",
            "keys",
            "--aws-ip-ranges",
            ranges.to_str().unwrap(),
        ],
    );
    let rows = list(&audit, "long_term_keys");
    let app = by_field(rows, "access_key_id", "AKIAFIXTUREAPPKEY004");
    assert!(
        strings(&app["hardcoded_hints"])
            .contains(&"1 of 2 addresses in AWS's EC2 ranges (3.4.5.6 in 3.4.0.0/16)".to_string()),
        "{app}"
    );
    // 20.1.2.3 is only in a prefix of the AMAZON service.
    let ci = by_field(rows, "access_key_id", "AKIAFIXTURECIKEY0003");
    assert_eq!(strings(&ci["hardcoded_hints"]).len(), 1, "{ci}");
    let alice = by_field(rows, "access_key_id", "AKIAFIXTUREALICE0002");
    assert_eq!(alice["likely_hardcoded"], false);
}

#[test]
fn invalid_ranges_file_is_named() {
    let store = fixture_store();
    let bad = store.scratch("ranges").join("ip-ranges.json");
    std::fs::write(&bad, "{\"prefixes\": 5}").unwrap();
    let run = store.run(&["audit", "--aws-ip-ranges", bad.to_str().unwrap()]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("ip-ranges.json"), "{}", run.stderr);
}
