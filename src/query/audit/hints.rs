//! Signs that a long-term key runs on AWS compute or in a CI system, where
//! an instance profile, a task or function role, or an OIDC-federated role
//! would serve without a stored secret.
//!
//! The signs come from the user agent (the AWS SDKs write the execution
//! environment and the kernel release into it) and from calls through a VPC
//! endpoint, which only come from inside a VPC. Addresses count only when
//! AWS's published ranges are given (`ranges.rs`): without them an EC2
//! address looks like any other.

/// User agent fragments (compared in lower case) that mark AWS compute.
const COMPUTE_MARKERS: &[(&str, &str)] = &[
    ("exec-env/aws_lambda", "Lambda runtime in the user agent"),
    ("exec-env/aws_ecs", "ECS task in the user agent"),
    ("exec-env/aws_batch", "AWS Batch job in the user agent"),
    ("exec-env/cloudshell", "CloudShell in the user agent"),
    (".amzn2023.", "Amazon Linux kernel in the user agent (EC2)"),
    (".amzn2.", "Amazon Linux kernel in the user agent (EC2)"),
    (".amzn1.", "Amazon Linux kernel in the user agent (EC2)"),
];

/// User agent fragments (compared in lower case) that mark a CI system.
const CI_MARKERS: &[(&str, &str)] = &[
    ("github", "GitHub Actions in the user agent"),
    ("gitlab", "GitLab CI in the user agent"),
    ("jenkins", "Jenkins in the user agent"),
    ("circleci", "CircleCI in the user agent"),
    ("buildkite", "Buildkite in the user agent"),
    ("bitbucket", "Bitbucket Pipelines in the user agent"),
    ("teamcity", "TeamCity in the user agent"),
    ("azure-pipelines", "Azure Pipelines in the user agent"),
    ("aws_codebuild", "CodeBuild in the user agent"),
    // GitHub-hosted and Azure Pipelines runners are Azure VMs, whose Ubuntu
    // kernels carry an `-azure` suffix (`os/linux#6.5.0-1025-azure`).
    (
        "-azure",
        "Azure VM kernel in the user agent (hosted CI runner)",
    ),
];

/// Returns the reasons, without repeats and in a stable order, to think the
/// key is stored on compute or in CI.
pub(super) fn hardcoded_hints(user_agents: &[String], vpc_endpoints: &[String]) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    let mut add = |hint: String| {
        if !hints.contains(&hint) {
            hints.push(hint);
        }
    };
    for agent in user_agents {
        let lower = agent.to_ascii_lowercase();
        for (marker, hint) in COMPUTE_MARKERS.iter().chain(CI_MARKERS) {
            if lower.contains(marker) {
                add((*hint).to_string());
            }
        }
    }
    for endpoint in vpc_endpoints {
        add(format!("called through VPC endpoint {endpoint}"));
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(agent: &str) -> Vec<String> {
        hardcoded_hints(&[agent.to_string()], &[])
    }

    #[test]
    fn lambda_agent_is_compute() {
        let found = hints(
            "Boto3/1.34.54 md/Botocore#1.34.54 ua/2.0 os/linux#5.10.225-213.878.amzn2.x86_64 exec-env/AWS_Lambda_python3.12",
        );
        assert!(found.contains(&"Lambda runtime in the user agent".to_string()));
        assert!(found.contains(&"Amazon Linux kernel in the user agent (EC2)".to_string()));
    }

    #[test]
    fn azure_kernel_is_ci() {
        let found = hints("aws-cli/2.17.18 ua/2.0 os/linux#6.5.0-1025-azure md/arch#x86_64");
        assert_eq!(
            found,
            vec!["Azure VM kernel in the user agent (hosted CI runner)".to_string()]
        );
    }

    #[test]
    fn laptop_agent_has_no_hint() {
        assert!(hints("aws-cli/2.15.30 ua/2.0 os/macos#23.6.0 md/arch#x86_64").is_empty());
    }

    #[test]
    fn vpc_endpoint_is_a_hint() {
        let found = hardcoded_hints(&[], &["vpce-0a1b2c".to_string()]);
        assert_eq!(
            found,
            vec!["called through VPC endpoint vpce-0a1b2c".to_string()]
        );
    }
}
