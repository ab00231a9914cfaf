//! `investigate` end to end, on the bundled sample and on invictus-aws. The
//! report names the attacker's key, what it created, what is still present,
//! and the audit's outside accounts, and the HTML report renders in headless
//! Chromium. Expected facts are read from the source records here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::*;

const LEAKED: &str = "AKIAEXAMPLELEAKED001";
const INVICTUS_KEY: &str = "AKIATFQR7NSC8Q4X20BJ";

/// A finished investigation: its store, report folder and output.
struct Investigation {
    store: Store,
    report: PathBuf,
    run: Run,
}

impl Investigation {
    fn new(source: &Path) -> Investigation {
        let store = Store::new();
        let report = store.scratch("report");
        let run = Run::from_command(
            store
                .command()
                .arg("investigate")
                .arg(source)
                .arg("-o")
                .arg(&report),
        );
        Investigation { store, report, run }
    }

    fn json(&self) -> Value {
        read_json(&self.report.join("report.json"))
    }
}

fn sample() -> &'static Investigation {
    static RUN: OnceLock<Investigation> = OnceLock::new();
    RUN.get_or_init(|| {
        Investigation::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs"))
    })
}

fn invictus() -> &'static Investigation {
    static RUN: OnceLock<Investigation> = OnceLock::new();
    RUN.get_or_init(|| Investigation::new(&realdata("invictus-aws")))
}

/// Reads every record of the sample from its gzip files.
fn sample_records() -> Vec<Value> {
    let mut files = Vec::new();
    collect_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/bucket"),
        &mut files,
    );
    files
        .iter()
        .filter(|path| path.to_string_lossy().contains("/CloudTrail/"))
        .flat_map(|path| {
            let text = String::from_utf8(read_maybe_gzip(path)).unwrap();
            records_of(&serde_json::from_str(&text).unwrap())
        })
        .collect()
}

fn leftover<'a>(report: &'a Value, kind: &str, name: &str) -> &'a Value {
    report["leftovers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["kind"] == kind && text(&item["name"]).starts_with(name))
        .unwrap_or_else(|| panic!("no {kind} {name} in the leftovers"))
}

fn implicated_keys(report: &Value) -> BTreeSet<String> {
    report["implicated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| text(&item["access_key_id"]))
        .collect()
}

fn lineage_keys(report: &Value, root: &str) -> BTreeSet<String> {
    report["lineages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tree| tree["root"] == root)
        .unwrap_or_else(|| panic!("no lineage of {root}"))["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| text(&node["access_key_id"]))
        .collect()
}

#[test]
fn sample_names_leaked_key_and_its_lineage() {
    let investigation = sample();
    assert_eq!(
        investigation.run.code,
        Some(0),
        "{}",
        investigation.run.stderr
    );
    let report = investigation.json();
    // The sample's story has one intruder, on the leaked key; the admins,
    // CI users and vendors around it act as they do every day.
    assert_eq!(
        implicated_keys(&report),
        BTreeSet::from([LEAKED.to_string()])
    );

    // The keys the leaked key minted, read from the records.
    let records = sample_records();
    let minted: BTreeSet<String> = records
        .iter()
        .filter(|record| {
            let caller = pointer_text(record, "/userIdentity/accessKeyId");
            caller.as_deref() == Some(LEAKED) || caller.as_deref() == Some("ASIAEXAMPLEADMIN0001")
        })
        .filter(|record| record["errorCode"].is_null())
        .filter_map(|record| {
            pointer_text(record, "/responseElements/credentials/accessKeyId")
                .or_else(|| pointer_text(record, "/responseElements/accessKey/accessKeyId"))
        })
        .collect();
    assert!(minted.contains("ASIAEXAMPLEADMIN0001"));
    assert!(minted.contains("AKIAEXAMPLEBACKUP004"));
    let tree = lineage_keys(&report, LEAKED);
    for key in &minted {
        assert!(tree.contains(key), "{key} missing from the lineage");
    }
}

#[test]
fn sample_lists_what_is_still_present() {
    let report = sample().json();
    let records = sample_records();
    let deleted = |event: &str, field: &str, name: &str| {
        records.iter().any(|record| {
            record["eventName"] == event
                && record["errorCode"].is_null()
                && pointer_text(record, &format!("/requestParameters/{field}")).as_deref()
                    == Some(name)
        })
    };
    // The attacker's user, role and trust change were never undone in the logs.
    assert!(!deleted("DeleteUser", "userName", "svc-backup"));
    assert!(!deleted("DeleteRole", "roleName", "support-automation"));
    assert!(leftover(&report, "user", "user/svc-backup")["removed"].is_null());
    assert!(leftover(&report, "role", "role/support-automation")["removed"].is_null());
    assert!(leftover(&report, "trust-policy", "role/deploy-admin")["removed"].is_null());
    assert!(leftover(&report, "access-key", "AKIAEXAMPLEBACKUP004")["removed"].is_null());
    let admin = leftover(&report, "attached-policy", "user/svc-backup");
    assert!(text(&admin["name"]).ends_with("policy/AdministratorAccess"));

    let stdout = &sample().run.stdout;
    assert!(stdout.contains("== Still needs action"));
    assert!(stdout.contains("svc-backup"));
    assert!(stdout.contains("support-automation"));
    let markdown = std::fs::read_to_string(sample().report.join("report.md")).unwrap();
    assert!(markdown.contains("## Still needs action"));
    assert!(markdown.contains("user/svc-backup"));
}

#[test]
fn sample_audit_shows_vendor_role_from_outside() {
    let report = sample().json();
    let records = sample_records();
    // Days on which the vendor account assumed its role, from the records.
    let vendor_days: BTreeSet<String> = records
        .iter()
        .filter(|record| record["eventName"] == "AssumeRole")
        .filter(|record| {
            text(&record["requestParameters"]["roleArn"]).ends_with("role/cloudops-vendor-admin")
        })
        .filter(|record| {
            pointer_text(record, "/userIdentity/accountId").as_deref() == Some("318764902215")
        })
        .map(|record| text(&record["eventTime"])[..10].to_string())
        .collect();
    assert_eq!(vendor_days.len(), 2, "the vendor role is used on both days");

    let uses: Vec<&Value> = report["audit"]["cross_account"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| text(&item["role_arn"]).ends_with("role/cloudops-vendor-admin"))
        .collect();
    assert!(!uses.is_empty(), "{}", report["audit"]["cross_account"]);
    assert!(
        uses.iter()
            .any(|item| item.to_string().contains("318764902215"))
    );
    assert!(
        sample()
            .run
            .stdout
            .contains("== Audit: Roles assumed from other accounts")
    );
}

#[test]
fn sample_timelines_hold_the_followed_events() {
    let investigation = sample();
    let csv = investigation.report.join(format!("timelines/{LEAKED}.csv"));
    let timesketch = investigation
        .report
        .join(format!("timelines/{LEAKED}.timesketch.jsonl"));
    let followed = investigation
        .store
        .timeline_rows(&["--access-key", LEAKED, "--follow"]);
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    assert_eq!(reader.records().count(), followed.len());
    let sketch = read_jsonl(&timesketch);
    assert_eq!(sketch.len(), followed.len());
    assert!(
        sketch
            .iter()
            .all(|row| row["timestamp_desc"] == "Event Time" && row["message"].is_string())
    );
}

#[test]
fn html_report_renders_in_chromium() {
    let investigation = sample();
    let html = investigation.report.join("report.html");
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(
        !text.contains("http://") && !text.contains("https://"),
        "the report loads nothing from the network"
    );

    let chromium = std::env::var("TRAILHOUND_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let profile = investigation.store.scratch("chromium-profile");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];
    let url = format!("file://{}", html.display());
    let dom = Process::new(&chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot start {chromium} ({err}); install Debian's chromium package")
        });
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in [
        "overview",
        "implicated",
        "findings",
        "action",
        "created",
        "audit",
        "coverage",
    ] {
        assert!(
            dom.contains(&format!("<section id=\"{id}\"")),
            "section {id} missing"
        );
    }
    assert!(dom.contains(LEAKED));
    assert!(dom.contains("svc-backup"));

    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("investigate-report.png");
    let _ = std::fs::remove_file(&screenshot);
    let status = Process::new(&chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .args(["--window-size=1280,2400", &url])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let size = std::fs::metadata(&screenshot)
        .map(|meta| meta.len())
        .unwrap_or(0);
    assert!(
        size > 20_000,
        "screenshot {} is {size} bytes",
        screenshot.display()
    );
}

#[test]
fn invictus_report_names_attacker_changes() {
    let investigation = invictus();
    assert_eq!(
        investigation.run.code,
        Some(0),
        "{}",
        investigation.run.stderr
    );
    let report = investigation.json();
    assert!(implicated_keys(&report).contains(INVICTUS_KEY));

    let records = realdata_records("invictus-aws");
    let removed = |event: &str, field: &str, name: &str| {
        records.iter().any(|record| {
            record["eventName"] == event
                && record["errorCode"].is_null()
                && pointer_text(record, &format!("/requestParameters/{field}")).as_deref()
                    == Some(name)
        })
    };
    let admin_user = leftover(&report, "user", "user/malicious-iam-user");
    assert_eq!(
        admin_user["removed"].is_null(),
        !removed("DeleteUser", "userName", "malicious-iam-user")
    );
    let trust = leftover(
        &report,
        "trust-policy",
        "role/stratus-red-team-backdoor-r-role",
    );
    assert_eq!(
        trust["removed"].is_null(),
        !removed("DeleteRole", "roleName", "stratus-red-team-backdoor-r-role")
    );
    let findings = report["findings"].as_array().unwrap();
    let targets: Vec<String> = findings
        .iter()
        .filter_map(|finding| opt_text(&finding["target"]))
        .collect();
    assert!(
        targets
            .iter()
            .any(|target| target.contains("malicious-iam-user"))
    );
    assert!(
        targets
            .iter()
            .any(|target| target.contains("stratus-red-team-backdoor-r-role"))
    );
}

#[test]
fn org_accounts_mark_outside_callers() {
    let store = Store::new();
    let report = store.scratch("report");
    let org = store.scratch("org").join("accounts.txt");
    // The sample's two accounts, from its layout folders.
    std::fs::write(&org, "823532973928\n069291026422\n").unwrap();
    let run = Run::from_command(
        store
            .command()
            .arg("investigate")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs"))
            .arg("-o")
            .arg(&report)
            .arg("--org-accounts")
            .arg(&org),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = read_json(&report.join("report.json"));
    for item in json["audit"]["cross_account"].as_array().unwrap() {
        let caller = text(&item["caller_account"]);
        let outside = caller != "823532973928" && caller != "069291026422";
        assert_eq!(item["outside_org"], outside, "{item}");
    }

    let missing = Run::from_command(
        store
            .command()
            .arg("investigate")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs"))
            .arg("-o")
            .arg(&report)
            .arg("--org-accounts")
            .arg(store.scratch("org").join("absent.txt")),
    );
    assert_eq!(missing.code, Some(2));
    assert!(missing.stderr.contains("absent.txt"), "{}", missing.stderr);
}

#[test]
fn sample_runs_keep_to_one_lineage() {
    let report = sample().json();
    // ci-deployer's GetCallerIdentity calls come from the leaked key and,
    // after the rotation, from its replacement. A DB03 run attributed to the
    // leaked key holds only calls the records show made with a key of its
    // lineage.
    let records = sample_records();
    let lineage = lineage_keys(&report, LEAKED);
    assert!(!lineage.contains("AKIAEXAMPLEROTATED06"));

    let key_of = |event_id: &str| {
        records
            .iter()
            .find(|record| record["eventID"] == event_id)
            .and_then(|record| pointer_text(record, "/userIdentity/accessKeyId"))
    };
    let runs: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| {
            finding["rule_id"] == "DB03"
                && finding["lineage_root_access_key_id"] == LEAKED
                && text(&finding["principal_arn"]).ends_with("user/ci-deployer")
        })
        .collect();
    assert!(!runs.is_empty());

    for run in runs {
        for event_id in text(&run["event_ids"]).split(' ') {
            let key = key_of(event_id).unwrap();
            assert!(lineage.contains(&key), "{event_id} made with {key}");
        }
    }
}

#[test]
fn empty_source_folder_warns() {
    let store = Store::new();
    let empty = store.scratch("empty-source");
    let report = store.scratch("report");
    let run = Run::from_command(
        store
            .command()
            .arg("investigate")
            .arg(&empty)
            .arg("-o")
            .arg(&report),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("warning"), "{}", run.stderr);
    assert!(
        run.stderr.contains(empty.to_str().unwrap()),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("no object found here"),
        "{}",
        run.stderr
    );
}
