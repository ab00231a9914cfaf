use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn parse(text: &str) -> PolicyDocument {
    PolicyDocument::parse(text).expect("test policy parses")
}

fn no_allowlist() -> BTreeSet<String> {
    BTreeSet::new()
}

#[test]
fn admin_with_statement_list() {
    let document = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    assert!(document.is_admin());
    assert!(document.is_near_admin());
    assert!(document.grants_escalation());
    assert!(!document.is_read_only());
}

#[test]
fn admin_with_statement_object_and_lists() {
    let document = parse(
        r#"{"Statement":{"Effect":"Allow","Action":["s3:GetObject","*:*"],"Resource":["arn:aws:s3:::b","*"]}}"#,
    );
    assert!(document.is_admin());
}

#[test]
fn star_action_on_one_resource_is_not_admin() {
    let document = parse(
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bucket/*"}}"#,
    );
    assert!(!document.is_admin());
    assert!(!document.grants_escalation());
}

#[test]
fn deny_star_is_not_admin() {
    let document = parse(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#);
    assert!(!document.is_admin());
    assert!(!document.is_read_only());
}

#[test]
fn not_action_is_near_admin() {
    let document = parse(r#"{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#);
    assert!(!document.is_admin());
    assert!(document.is_near_admin());
    assert!(document.grants_escalation());
}

#[test]
fn escalation_actions_by_wildcard() {
    let document = parse(r#"{"Statement":{"Effect":"Allow","Action":"iam:Put*","Resource":"*"}}"#);
    assert!(!document.is_admin());
    assert!(document.grants_escalation());
    let pass_role =
        parse(r#"{"Statement":{"Effect":"Allow","Action":["IAM:passrole"],"Resource":"*"}}"#);
    assert!(pass_role.grants_escalation());
}

#[test]
fn read_only_document() {
    let document = parse(
        r#"{"Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:ListBucket","ec2:Describe*"],"Resource":"*"}]}"#,
    );
    assert!(document.is_read_only());
    assert!(!document.grants_escalation());
    let writes = parse(r#"{"Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"*"}]}"#);
    assert!(!writes.is_read_only());
}

#[test]
fn policy_as_json_string_with_newlines() {
    // How requestParameters.policyDocument arrives: a JSON string of JSON.
    let text = serde_json::to_string(
        "{\n\t\"Version\": \"2012-10-17\",\n\t\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]\n}",
    )
    .unwrap();
    assert!(text.starts_with('"'));
    assert!(parse(&text).is_admin());
}

#[test]
fn url_encoded_trust_policy() {
    // The shape of responseElements.role.assumeRolePolicyDocument in CreateRole.
    let text = "%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22%2C%0A%20%20%22Statement%22%3A%20%5B%0A%20%20%20%20%7B%0A%20%20%20%20%20%20%22Effect%22%3A%20%22Allow%22%2C%0A%20%20%20%20%20%20%22Principal%22%3A%20%7B%0A%20%20%20%20%20%20%20%20%22AWS%22%3A%20%22arn%3Aaws%3Aiam%3A%3A193672423079%3Aroot%22%0A%20%20%20%20%20%20%7D%2C%0A%20%20%20%20%20%20%22Action%22%3A%20%22sts%3AAssumeRole%22%0A%20%20%20%20%7D%0A%20%20%5D%0A%7D";
    let trust = analyze_trust(&parse(text), Some("123456789012"), &no_allowlist());
    assert_eq!(
        trust.external_accounts,
        BTreeSet::from(["193672423079".to_string()])
    );
    assert_eq!(trust.exposure(), TrustExposure::External);
}

#[test]
fn invalid_inputs_are_errors() {
    assert!(matches!(
        PolicyDocument::parse("not json"),
        Err(PolicyError::InvalidJson(_))
    ));
    assert_eq!(
        PolicyDocument::parse("[1,2]"),
        Err(PolicyError::NotAnObject)
    );
    assert_eq!(
        PolicyDocument::parse(r#"{"Version":"2012-10-17"}"#),
        Err(PolicyError::MissingStatement)
    );
    let nested = serde_json::to_string(
        &serde_json::to_string(&serde_json::to_string("{}").unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        PolicyDocument::parse(&nested),
        Err(PolicyError::TooDeeplyNested)
    );
}

#[test]
fn statements_without_effect_are_skipped() {
    let document = parse(r#"{"Statement":[{"Action":"*","Resource":"*"},"text",7]}"#);
    assert!(document.statements.is_empty());
    assert!(!document.is_admin());
}

#[test]
fn admin_managed_arn_in_every_partition() {
    for partition in ["aws", "aws-cn", "aws-us-gov"] {
        let arn = format!("arn:{partition}:iam::aws:policy/AdministratorAccess");
        assert!(is_admin_policy_arn(&arn), "{arn}");
        assert!(is_escalation_policy_arn(&arn), "{arn}");
    }
}

#[test]
fn other_arns_are_not_admin() {
    // A customer policy with the same name is not the AWS managed one.
    assert!(!is_admin_policy_arn(
        "arn:aws:iam::123456789012:policy/AdministratorAccess"
    ));
    assert!(!is_admin_policy_arn(
        "arn:aws:iam::aws:policy/ReadOnlyAccess"
    ));
    assert!(!is_admin_policy_arn("AdministratorAccess"));
    assert!(is_escalation_policy_arn(
        "arn:aws:iam::aws:policy/IAMFullAccess"
    ));
    assert!(is_read_only_policy_arn(
        "arn:aws:iam::aws:policy/ReadOnlyAccess"
    ));
    assert!(is_read_only_policy_arn(
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    ));
    assert!(!is_read_only_policy_arn(
        "arn:aws:iam::aws:policy/AdministratorAccess"
    ));
}

#[test]
fn trust_public_star_forms() {
    for principal in [r#""*""#, r#"{"AWS":"*"}"#, r#"{"AWS":["*"]}"#] {
        let text = format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}}}"#
        );
        let trust = analyze_trust(&parse(&text), Some("111111111111"), &no_allowlist());
        assert!(trust.public, "{principal}");
        assert_eq!(trust.exposure(), TrustExposure::Public, "{principal}");
    }
}

#[test]
fn trust_own_account_and_allowlist_are_internal() {
    let text = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:root","222222222222","arn:aws:iam::111111111111:role/ci"]},"Action":"sts:AssumeRole"}]}"#;
    let allowlist = BTreeSet::from(["222222222222".to_string()]);
    let trust = analyze_trust(&parse(text), Some("111111111111"), &allowlist);
    assert!(trust.external_accounts.is_empty());
    assert_eq!(trust.internal_accounts.len(), 2);
    assert_eq!(trust.exposure(), TrustExposure::Internal);

    let without_allowlist = analyze_trust(&parse(text), Some("111111111111"), &no_allowlist());
    assert_eq!(without_allowlist.exposure(), TrustExposure::External);
}

#[test]
fn trust_external_id_and_org_conditions() {
    let external_id = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}}"#;
    let trust = analyze_trust(&parse(external_id), Some("111111111111"), &no_allowlist());
    assert!(trust.external_id_condition);
    assert_eq!(trust.exposure(), TrustExposure::ExternalWithExternalId);

    let org = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}}"#;
    let trust = analyze_trust(&parse(org), Some("111111111111"), &no_allowlist());
    assert!(trust.org_condition);
    assert_eq!(trust.exposure(), TrustExposure::OrgLimited);
}

#[test]
fn trust_condition_must_cover_every_outsider_statement() {
    let text = r#"{"Statement":[
        {"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}},
        {"Effect":"Allow","Principal":{"AWS":"888888888888"},"Action":"sts:AssumeRole"}]}"#;
    let trust = analyze_trust(&parse(text), Some("111111111111"), &no_allowlist());
    assert!(!trust.external_id_condition);
    assert_eq!(trust.exposure(), TrustExposure::External);
}

#[test]
fn trust_service_and_federated_principals() {
    let text = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"},
        {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:saml-provider/okta"},"Action":"sts:AssumeRoleWithSAML"}]}"#;
    let trust = analyze_trust(&parse(text), Some("111111111111"), &no_allowlist());
    assert_eq!(trust.services.len(), 2);
    assert_eq!(trust.federated.len(), 1);
    assert!(!trust.lets_outsiders_in());
    assert_eq!(trust.exposure(), TrustExposure::Internal);
}

#[test]
fn trust_deny_statements_let_nobody_in() {
    let text = r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}}"#;
    let trust = analyze_trust(&parse(text), Some("111111111111"), &no_allowlist());
    assert!(!trust.public);
}

#[test]
fn principal_account_forms() {
    assert_eq!(principal_account("123456789012"), Some("123456789012"));
    assert_eq!(
        principal_account("arn:aws-cn:iam::123456789012:user/x"),
        Some("123456789012")
    );
    assert_eq!(principal_account("AIDAEXAMPLE"), None);
    assert_eq!(principal_account("arn:aws:iam::notanumber:root"), None);
}

#[test]
fn action_wildcards() {
    assert!(action_matches("iam:*", "iam:PassRole"));
    assert!(action_matches("iam:Pass?ole", "iam:PassRole"));
    assert!(action_matches("*", "sts:AssumeRole"));
    assert!(!action_matches("iam:Get*", "iam:PassRole"));
    assert!(!action_matches("s3:*", "iam:PassRole"));
}

proptest! {
    #[test]
    fn parse_never_panics(text in ".*") {
        let _ = PolicyDocument::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_policy_like_text(
        text in r#"[%{}\[\]":,*A-Za-z0-9 \\]{0,200}"#
    ) {
        if let Ok(document) = PolicyDocument::parse(&text) {
            let _ = document.is_admin();
            let _ = document.grants_escalation();
            let _ = document.is_read_only();
            let _ = analyze_trust(&document, Some("111111111111"), &BTreeSet::new());
        }
    }

    #[test]
    fn arn_and_wildcard_helpers_never_panic(pattern in ".{0,40}", text in ".{0,40}") {
        let _ = action_matches(&pattern, &text);
        let _ = is_admin_policy_arn(&text);
        let _ = principal_account(&text);
    }
}
