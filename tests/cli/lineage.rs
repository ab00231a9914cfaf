//! `lineage`, `timeline --follow` and `summary`, checked against a
//! hand-made story whose expected tree is written out below (see
//! tests/fixtures/lineage/make_lineage.py for the records), and against
//! invictus-aws counted independently.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::*;

const ALICE: &str = "AKIAALICE00000000001";
const ATTACKER_KEY: &str = "AKIATFQR7NSC8Q4X20BJ";

/// One expected node: (node id, parent, minted by, kind, inferred, event count).
type ExpectedNode = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    bool,
    u64,
);

/// The expected lineage of alice's key, by hand.
const EXPECTED_TREE: &[ExpectedNode] = &[
    (ALICE, None, None, "long-term", false, 9),
    (
        "ASIASESSION000000001",
        Some(ALICE),
        Some("GetSessionToken"),
        "temporary",
        false,
        2,
    ),
    (
        "ASIAOPS0000000000001",
        Some(ALICE),
        Some("AssumeRole"),
        "temporary",
        false,
        4,
    ),
    (
        "ASIADEPLOY0000000001",
        Some("ASIAOPS0000000000001"),
        Some("AssumeRole"),
        "temporary",
        false,
        2,
    ),
    (
        "ASIAFED0000000000001",
        Some(ALICE),
        Some("GetFederationToken"),
        "temporary",
        false,
        1,
    ),
    // The second use, after the credential expired, is not the session's.
    (
        "ASIAEXPIRED000000001",
        Some(ALICE),
        Some("AssumeRole"),
        "temporary",
        false,
        1,
    ),
    (
        "AKIABOB0000000000001",
        Some(ALICE),
        Some("CreateAccessKey"),
        "long-term",
        false,
        2,
    ),
    // The sign-in plus two console calls.
    (
        "console:carol@2024-03-01T10:52:00Z",
        Some(ALICE),
        Some("CreateLoginProfile"),
        "console",
        true,
        3,
    ),
    (
        "session:arn:aws:sts::111111111111:assumed-role/reports/exfil@2024-03-01T11:00:00Z",
        Some(ALICE),
        Some("AssumeRole"),
        "session",
        true,
        2,
    ),
];

fn chain_store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = Store::new();
        store.ingest_ok(&[fixture("lineage/chain.json")]);
        store
    })
}

fn chain_records() -> Vec<Value> {
    records_of(&read_json(&fixture("lineage/chain.json")))
}

fn lineage_json(store: &Store, key: &str) -> Value {
    let run = store.run(&["lineage", "--access-key", key, "--format", "json"]);
    assert_eq!(run.code, Some(0), "lineage failed:\n{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("lineage JSON")
}

fn nodes_by_id(tree: &Value) -> BTreeMap<String, Value> {
    tree["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| (text(&node["access_key_id"]), node.clone()))
        .collect()
}

/// Event id of the one record with this event name at this time.
fn id_at(records: &[Value], name: &str, time: &str, account: &str) -> String {
    let found: Vec<&Value> = records
        .iter()
        .filter(|record| {
            record["eventName"] == name
                && record["eventTime"] == time
                && record["recipientAccountId"] == account
        })
        .collect();
    assert_eq!(found.len(), 1, "{name} at {time} in {account}");
    event_id(found[0])
}

#[test]
fn lineage_of_fixture_matches_hand_written_tree() {
    let tree = lineage_json(chain_store(), ALICE);
    assert_eq!(tree["root"], ALICE);
    let nodes = nodes_by_id(&tree);
    let expected: BTreeSet<&str> = EXPECTED_TREE.iter().map(|row| row.0).collect();
    let actual: BTreeSet<&str> = nodes.keys().map(String::as_str).collect();
    assert_eq!(actual, expected);
    assert_eq!(
        tree["nodes"][0]["access_key_id"], ALICE,
        "the root comes first"
    );

    for (id, parent, minted_by, kind, inferred, count) in EXPECTED_TREE {
        let node = &nodes[*id];
        assert_eq!(
            opt_text(&node["parent_access_key_id"]).as_deref(),
            *parent,
            "{id} parent"
        );
        assert_eq!(
            opt_text(&node["minted_by_event_name"]).as_deref(),
            *minted_by,
            "{id} mint"
        );
        assert_eq!(node["kind"], *kind, "{id} kind");
        assert_eq!(node["inferred"], *inferred, "{id} inferred");
        assert_eq!(node["event_count"], *count, "{id} events");
    }
    assert!(
        !nodes.contains_key("ASIADAVE000000000001"),
        "another user's session is not alice's"
    );
}

#[test]
fn lineage_links_mint_events_and_cross_account_copies() {
    let records = chain_records();
    let nodes = nodes_by_id(&lineage_json(chain_store(), ALICE));

    let caller_copy = id_at(
        &records,
        "AssumeRole",
        "2024-03-01T10:10:00Z",
        "111111111111",
    );
    let owner_copy = id_at(
        &records,
        "AssumeRole",
        "2024-03-01T10:10:00Z",
        "222222222222",
    );
    let deploy = &nodes["ASIADEPLOY0000000001"];
    assert_eq!(text(&deploy["minted_by_event_id"]), caller_copy);
    assert_eq!(deploy["related_event_ids"], serde_json::json!([owner_copy]));
    assert_eq!(deploy["account_id"], "111111111111");
    assert_eq!(
        deploy["principal_arn"],
        "arn:aws:sts::222222222222:assumed-role/deploy/hop2"
    );

    let expired = &nodes["ASIAEXPIRED000000001"];
    assert_eq!(expired["expiration"], "2024-03-01T10:45:00Z");
    assert_eq!(expired["last_seen"], "2024-03-01T10:35:00Z");

    let console = &nodes["console:carol@2024-03-01T10:52:00Z"];
    assert_eq!(
        text(&console["minted_by_event_id"]),
        id_at(
            &records,
            "CreateLoginProfile",
            "2024-03-01T10:50:00Z",
            "111111111111"
        )
    );
    assert_eq!(
        console["session_keys"],
        serde_json::json!(["ASIACONSOLE000000001"])
    );
    assert!(text(&console["evidence"]).contains("same IP"));

    let reports =
        &nodes["session:arn:aws:sts::111111111111:assumed-role/reports/exfil@2024-03-01T11:00:00Z"];
    assert_eq!(
        reports["session_keys"],
        serde_json::json!(["ASIAREPORTS000000001"])
    );

    let bob = &nodes["AKIABOB0000000000001"];
    assert_eq!(bob["source_ips"], serde_json::json!(["203.0.113.200"]));
    assert_eq!(bob["principal_arn"], "arn:aws:iam::111111111111:user/bob");
}

#[test]
fn follow_returns_exactly_the_tree_events() {
    let records = chain_records();
    // Keys of the hand-written tree, and the node each belongs to.
    let node_of_key: BTreeMap<&str, &str> = [
        (ALICE, ALICE),
        ("ASIASESSION000000001", "ASIASESSION000000001"),
        ("ASIAOPS0000000000001", "ASIAOPS0000000000001"),
        ("ASIADEPLOY0000000001", "ASIADEPLOY0000000001"),
        ("ASIAFED0000000000001", "ASIAFED0000000000001"),
        ("ASIAEXPIRED000000001", "ASIAEXPIRED000000001"),
        ("AKIABOB0000000000001", "AKIABOB0000000000001"),
        ("ASIACONSOLE000000001", "console:carol@2024-03-01T10:52:00Z"),
        (
            "ASIAREPORTS000000001",
            "session:arn:aws:sts::111111111111:assumed-role/reports/exfil@2024-03-01T11:00:00Z",
        ),
    ]
    .into_iter()
    .collect();
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for record in &records {
        let key = pointer_text(record, "/userIdentity/accessKeyId");
        let expired_use = record["errorCode"] == "ExpiredToken";
        if let Some(node) = key.as_deref().and_then(|key| node_of_key.get(key))
            && !expired_use
        {
            expected.insert(event_id(record), node.to_string());
        }
        if record["eventName"] == "ConsoleLogin" {
            expected.insert(
                event_id(record),
                "console:carol@2024-03-01T10:52:00Z".into(),
            );
        }
    }

    let rows = chain_store().timeline_rows(&["--access-key", ALICE, "--follow"]);
    let actual: BTreeMap<String, String> = rows
        .iter()
        .map(|row| (text(&row["event_id"]), text(&row["credential"])))
        .collect();
    assert_eq!(actual.len(), rows.len(), "an event is repeated");
    assert_eq!(actual, expected);
    let times: Vec<String> = rows.iter().map(|row| text(&row["event_time"])).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "follow output is in time order");

    // Other filters narrow the followed events.
    let bob_only =
        chain_store().timeline_rows(&["--access-key", ALICE, "--follow", "--ip", "203.0.113.200"]);
    assert_eq!(bob_only.len(), 2);
    assert!(
        bob_only
            .iter()
            .all(|row| row["credential"] == "AKIABOB0000000000001")
    );
}

#[test]
fn dot_and_mermaid_draw_one_edge_per_child() {
    let store = chain_store();
    let dot = store.run(&["lineage", "--access-key", ALICE, "--format", "dot"]);
    assert_eq!(dot.code, Some(0));
    assert!(dot.stdout.starts_with("digraph lineage {"));
    assert_eq!(dot.stdout.matches(" -> ").count(), EXPECTED_TREE.len() - 1);
    assert_eq!(
        dot.stdout.matches("style=dashed];").count(),
        4,
        "two inferred nodes and their edges"
    );

    let mermaid = store.run(&["lineage", "--access-key", ALICE, "--format", "mermaid"]);
    assert_eq!(mermaid.code, Some(0));
    assert!(mermaid.stdout.starts_with("flowchart LR"));
    let edges = mermaid.stdout.matches("-->|").count() + mermaid.stdout.matches("-.->|").count();
    assert_eq!(edges, EXPECTED_TREE.len() - 1);

    let tree = store.run(&["lineage", "--access-key", ALICE]);
    assert_eq!(tree.code, Some(0));
    assert!(tree.stdout.lines().next().unwrap().starts_with(ALICE));
    assert!(
        tree.stdout
            .contains("└─ AssumeRole at 2024-03-01T10:10:00Z → ASIADEPLOY0000000001")
    );
}

#[test]
fn unknown_key_finds_nothing() {
    let run = chain_store().run(&["lineage", "--access-key", "AKIANOTINTHESTORE001"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("no event in the store was made with AKIANOTINTHESTORE001")
    );
}

#[test]
fn invictus_lineage_holds_created_keys_sessions_and_console_login() {
    let records = realdata_records("invictus-aws");
    let by_key = |record: &&Value| {
        pointer_text(record, "/userIdentity/accessKeyId").as_deref() == Some(ATTACKER_KEY)
    };

    // Keys the attacker minted, read straight from the records.
    let minted_sessions: BTreeSet<String> = records
        .iter()
        .filter(by_key)
        .filter(|record| record["eventName"] == "AssumeRole")
        .filter_map(|record| pointer_text(record, "/responseElements/credentials/accessKeyId"))
        .collect();
    let created_keys: BTreeSet<String> = records
        .iter()
        .filter(by_key)
        .filter(|record| record["eventName"] == "CreateAccessKey")
        .filter_map(|record| pointer_text(record, "/responseElements/accessKey/accessKeyId"))
        .collect();
    assert_eq!(
        minted_sessions.len(),
        10,
        "SOURCES.md: ten AssumeRole calls return keys"
    );
    assert!(
        created_keys.contains("AKIATFQR7NSCQLA2F4OD")
            && created_keys.contains("AKIATFQR7NSC3ZO6PKAZ")
    );

    // Users the attacker gave a password who then signed in.
    let password_users: BTreeSet<String> = records
        .iter()
        .filter(by_key)
        .filter(|record| {
            record["eventName"] == "CreateLoginProfile" && record["errorCode"].is_null()
        })
        .filter_map(|record| pointer_text(record, "/requestParameters/userName"))
        .filter(|user| {
            records.iter().any(|login| {
                login["eventName"] == "ConsoleLogin"
                    && pointer_text(login, "/userIdentity/userName").as_deref()
                        == Some(user.as_str())
                    && login["responseElements"]["ConsoleLogin"] == "Success"
            })
        })
        .collect();
    assert_eq!(password_users.len(), 1);

    let tree = lineage_json(invictus_store(), ATTACKER_KEY);
    let nodes = nodes_by_id(&tree);
    for key in minted_sessions.iter().chain(&created_keys) {
        assert_eq!(
            opt_text(&nodes[key.as_str()]["parent_access_key_id"]).as_deref(),
            Some(ATTACKER_KEY),
            "{key}"
        );
    }
    let user = password_users.iter().next().unwrap();
    let console: Vec<&Value> = nodes
        .values()
        .filter(|node| node["kind"] == "console")
        .collect();
    assert_eq!(console.len(), 1);
    assert!(text(&console[0]["access_key_id"]).starts_with(&format!("console:{user}@")));
    assert_eq!(console[0]["minted_by_event_name"], "CreateLoginProfile");
    assert_eq!(console[0]["inferred"], true);
    assert_eq!(
        nodes.len(),
        1 + minted_sessions.len() + created_keys.len() + 1
    );

    // Each node's event count is the number of distinct records with its key.
    for key in &minted_sessions {
        let used: BTreeSet<String> = records
            .iter()
            .filter(|record| {
                pointer_text(record, "/userIdentity/accessKeyId").as_deref() == Some(key.as_str())
            })
            .map(event_id)
            .collect();
        assert_eq!(
            nodes[key.as_str()]["event_count"],
            used.len() as u64,
            "{key}"
        );
    }
}

#[test]
fn summary_counts_one_credential_from_the_data() {
    let run = chain_store().run(&["summary", "--access-key", ALICE, "--format", "jsonl"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows = run.jsonl();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["kind"], "long-term");
    assert_eq!(row["owner"], "arn:aws:iam::111111111111:user/alice");
    assert_eq!(row["events"], 9);
    assert_eq!(row["errors"], 1);
    assert_eq!(row["access_denied"], 1);
    assert_eq!(row["source_ips"], "198.51.100.7 (9)");
    assert_eq!(row["first_seen"], "2024-03-01T09:55:00Z");
    assert_eq!(row["last_seen"], "2024-03-01T11:05:00Z");
    assert_eq!(row["regions"], "us-east-1 (9)");
    assert!(text(&row["top_calls"]).starts_with("AssumeRole (4); "));
    let minted: BTreeSet<&str> = row["minted"].as_str().unwrap().split(' ').collect();
    let expected: BTreeSet<&str> = [
        "ASIASESSION000000001",
        "ASIAOPS0000000000001",
        "ASIAFED0000000000001",
        "ASIAEXPIRED000000001",
        "AKIABOB0000000000001",
    ]
    .into_iter()
    .collect();
    assert_eq!(minted, expected);
}

#[test]
fn summary_by_principal_marks_console_keys() {
    let run = chain_store().run(&["summary", "--principal", "carol", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows: Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["access_key_id"], "ASIACONSOLE000000001");
    assert_eq!(rows[0]["kind"], "console");
    assert_eq!(rows[0]["events"], 2);

    let all = chain_store().run(&["summary", "--all", "--format", "jsonl"]);
    let keys: BTreeSet<String> = chain_records()
        .iter()
        .filter_map(|record| pointer_text(record, "/userIdentity/accessKeyId"))
        .collect();
    let summarised: BTreeSet<String> = all
        .jsonl()
        .iter()
        .map(|row| text(&row["access_key_id"]))
        .collect();
    assert_eq!(summarised, keys);

    let none = chain_store().run(&["summary"]);
    assert_eq!(none.code, Some(2));
    assert!(
        none.stderr
            .contains("--access-key KEY, --principal ARN|NAME or --all")
    );
}

#[test]
fn invictus_follow_covers_each_key_of_the_tree() {
    let records = realdata_records("invictus-aws");
    let tree = lineage_json(invictus_store(), ATTACKER_KEY);
    let rows = invictus_store().timeline_rows(&["--access-key", ATTACKER_KEY, "--follow"]);
    let mut per_credential: BTreeMap<String, u64> = BTreeMap::new();
    for row in &rows {
        *per_credential.entry(text(&row["credential"])).or_default() += 1;
    }
    for node in tree["nodes"].as_array().unwrap() {
        let id = text(&node["access_key_id"]);
        assert_eq!(
            per_credential.get(&id).copied().unwrap_or_default(),
            node["event_count"].as_u64().unwrap(),
            "{id}"
        );
    }
    let attacker_events: BTreeSet<String> = records
        .iter()
        .filter(|record| {
            pointer_text(record, "/userIdentity/accessKeyId").as_deref() == Some(ATTACKER_KEY)
        })
        .map(event_id)
        .collect();
    assert_eq!(per_credential[ATTACKER_KEY], attacker_events.len() as u64);
}

#[test]
fn lineage_rows_formats_write_one_row_per_node() {
    let store = chain_store();
    let dir = store.scratch("lineage-rows");
    let jsonl = dir.join("tree.jsonl");
    let run = store.run(&[
        "lineage",
        "--access-key",
        ALICE,
        "--format",
        "jsonl",
        "-o",
        jsonl.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let rows = read_jsonl(&jsonl);
    let ids: BTreeSet<String> = rows.iter().map(|row| text(&row["access_key_id"])).collect();
    let expected: BTreeSet<String> = EXPECTED_TREE.iter().map(|row| row.0.to_string()).collect();
    assert_eq!(ids, expected);

    let csv = dir.join("tree.csv");
    let run = store.run(&[
        "lineage",
        "--access-key",
        ALICE,
        "--format",
        "csv",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut reader = csv::Reader::from_path(&csv).unwrap();
    let headers = reader.headers().unwrap().clone();
    let id_column = headers
        .iter()
        .position(|name| name == "access_key_id")
        .unwrap();
    let csv_ids: BTreeSet<String> = reader
        .records()
        .map(|record| record.unwrap()[id_column].to_string())
        .collect();
    assert_eq!(csv_ids, expected);
}

#[test]
fn summary_top_and_window_limit_rows() {
    let run = chain_store().run(&[
        "summary",
        "--access-key",
        ALICE,
        "--top",
        "1",
        "--format",
        "jsonl",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows = run.jsonl();
    assert_eq!(rows[0]["top_calls"], "AssumeRole (4)");

    // Alice's calls up to 10:05 are GetCallerIdentity, GetSessionToken and
    // the first AssumeRole.
    let run = chain_store().run(&[
        "summary",
        "--access-key",
        ALICE,
        "--until",
        "2024-03-01T10:05:00Z",
        "--format",
        "jsonl",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.jsonl()[0]["events"], 3);
}
