use super::*;

const MINIMAL: &str = "
id: X01
title: Test rule
description: A rule for tests.
severity: high
technique: T1098
tactic: persistence
match:
  event_source: iam.amazonaws.com
  event_name: CreateUser
";

fn error_of(text: &str) -> (String, String) {
    match parse_rule("test.yaml", text) {
        Err(RuleError::Invalid { field, message, .. }) => (field, message),
        other => panic!("expected an invalid-rule error, got {other:?}"),
    }
}

#[test]
fn builtin_rules_load() {
    let set = RuleSet::load(None).expect("built-in rules are valid");
    assert_eq!(set.rules.len(), BUILTIN_RULE_FILES.len());
}

#[test]
fn builtin_list_matches_folder() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/detect/rules");
    let mut on_disk: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = BUILTIN_RULE_FILES
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, on_disk);
}

#[test]
fn builtin_set_covers_catalog_ids() {
    let set = RuleSet::load(None).unwrap();
    let required = [
        "P01",
        "P02",
        "P03",
        "P04",
        "P05",
        "P06",
        "P07",
        "P09",
        "P11",
        "P12",
        "P13",
        "P14",
        "PE01",
        "PE02",
        "PE03",
        "PE04",
        "PE06",
        "PE06-LAMBDA",
        "CP01",
        "CP02",
        "CP03",
        "CP04",
        "CP05",
        "CP06",
        "CP07",
        "CP09",
        "DE01",
        "DE02",
        "DE03",
        "DE04",
        "DE05",
        "DE06",
        "DE07",
        "DE08",
        "DE10",
        "EX01",
        "EX02",
        "EX03",
        "EX04",
        "DB02",
        "DB03",
        "C01",
        "C02",
        "C03",
        "C04",
        "C06",
        "C07",
    ];
    for id in required {
        assert!(set.get(id).is_some(), "missing rule {id}");
    }
}

#[test]
fn file_id_matches_rule_id() {
    for (name, text) in BUILTIN_RULE_FILES {
        let rule = parse_rule(name, text).unwrap();
        assert_eq!(format!("{}.yaml", rule.id), *name);
    }
}

#[test]
fn minimal_rule_parses() {
    let rule = parse_rule("test.yaml", MINIMAL).unwrap();
    assert_eq!(rule.id, "X01");
    assert_eq!(rule.severity, Severity::High);
    assert!(rule.report);
}

#[test]
fn unknown_field_is_named() {
    let (field, message) = error_of(&MINIMAL.replace("event_name:", "event_nam:"));
    assert!(field.starts_with("match"), "{field}");
    assert!(message.contains("event_nam"), "{message}");
}

#[test]
fn bad_severity_is_named() {
    let (field, _) = error_of(&MINIMAL.replace("severity: high", "severity: urgent"));
    assert_eq!(field, "severity");
}

#[test]
fn unknown_column_is_named() {
    let text = format!("{MINIMAL}  columns:\n    - {{column: no_such_column, in: x}}\n");
    let (field, message) = error_of(&text);
    assert_eq!(field, "match.columns[0].column");
    assert!(message.contains("no_such_column"));
}

#[test]
fn bad_json_root_is_named() {
    let text = format!("{MINIMAL}  where:\n    - {{path: requestParams.x, exists: true}}\n");
    let (field, _) = error_of(&text);
    assert_eq!(field, "match.where[0].path");
}

#[test]
fn two_tests_in_one_condition_rejected() {
    let text = format!(
        "{MINIMAL}  where:\n    - {{path: requestParameters.x, exists: true, equals: y}}\n"
    );
    let (field, _) = error_of(&text);
    assert_eq!(field, "match.where[0]");
}

#[test]
fn unknown_value_test_is_named() {
    let text = format!("{MINIMAL}  where:\n    - {{path: requestParameters.x, test: is_evil}}\n");
    let (field, _) = error_of(&text);
    assert_eq!(field, "match.where[0].test");
}

#[test]
fn missing_match_rejected() {
    let text = MINIMAL.split("match:").next().unwrap();
    let (field, _) = error_of(text);
    assert_eq!(field, "match");
}

#[test]
fn severity_shift_clamps() {
    assert_eq!(Severity::High.shifted(1), Severity::Critical);
    assert_eq!(Severity::Critical.shifted(3), Severity::Critical);
    assert_eq!(Severity::Low.shifted(-5), Severity::Info);
    assert_eq!(Severity::Medium.shifted(-1), Severity::Low);
}

#[test]
fn json_root_maps_columns() {
    assert_eq!(
        json_root("requestParameters.userName"),
        Some(("request_parameters", "userName"))
    );
    assert_eq!(
        json_root("responseElements"),
        Some(("response_elements", ""))
    );
    assert_eq!(json_root("eventName"), None);
}
