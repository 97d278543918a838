//! Each function of `infra/template.yaml` is granted only what its code calls or AWS requires,
//! on the stack's own resources; and the check notices when that stops being true.

use std::path::{Path, PathBuf};
use template_checks::{CodeUsage, Violation, check, functions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root")
}

fn template_text() -> String {
    std::fs::read_to_string(root().join("infra/template.yaml")).expect("infra/template.yaml")
}

fn violations(text: &str) -> Vec<Violation> {
    let template = serde_norway::from_str(text).expect("the template parses");
    let usage = CodeUsage::read(&root()).expect("the workspace reads");
    check(&functions(&template).expect("the template's functions"), &usage)
}

/// The template with `extra` added to the actions of the sender's table statement.
fn with_sender_action(extra: &str) -> String {
    let text = template_text();
    let at = text.find("  SenderFunction:").expect("the template has SenderFunction");
    let actions = "Action: [dynamodb:GetItem";
    let offset = text[at..].find(actions).expect("the sender's table statement") + at;
    let mut changed = text.clone();
    changed.insert_str(offset + "Action: [".len(), &format!("{extra}, "));
    changed
}

#[test]
fn every_function_is_granted_only_what_its_code_calls_on_the_stacks_own_resources() {
    let found = violations(&template_text());
    assert!(found.is_empty(), "least-privilege violations:\n{}", lines(&found));
}

#[test]
fn every_function_of_the_template_is_checked() {
    let template = serde_norway::from_str(&template_text()).unwrap();
    let mut packages: Vec<_> = functions(&template).unwrap().into_iter().map(|f| f.package).collect();
    packages.sort();
    packages.dedup();
    assert_eq!(
        packages,
        [
            "campaign_status",
            "reconciler",
            "sender",
            "session_keeper",
            "start_campaign",
            "webhook_delivery",
            "webhook_events"
        ]
    );
}

#[test]
fn a_wildcard_action_added_to_a_role_is_reported() {
    let found = violations(&with_sender_action("dynamodb:*"));
    assert!(
        found.iter().any(|v| matches!(v, Violation::WildcardAction { function, action, .. }
            if function == "SenderFunction" && action == "dynamodb:*")),
        "{}",
        lines(&found)
    );
}

#[test]
fn an_action_no_code_calls_is_reported() {
    let found = violations(&with_sender_action("dynamodb:Scan"));
    assert_eq!(
        found,
        [Violation::UnusedAction {
            function: "SenderFunction".into(),
            sid: "Table".into(),
            action: "dynamodb:Scan".into()
        }]
    );
}

#[test]
fn a_wildcard_resource_and_a_policy_template_are_reported() {
    let text = template_text().replacen("Resource: !GetAtt Queue.Arn", "Resource: \"*\"", 1).replacen(
        "      Policies:\n",
        "      Policies:\n        - AmazonDynamoDBFullAccess\n",
        1,
    );
    let found = violations(&text);
    assert!(
        found.iter().any(|v| matches!(v, Violation::WideResource { resource, .. } if resource == "*")),
        "{}",
        lines(&found)
    );
    assert!(
        found.iter().any(
            |v| matches!(v, Violation::PolicyTemplate { name, .. } if name == "AmazonDynamoDBFullAccess")
        ),
        "{}",
        lines(&found)
    );
}

fn lines(found: &[Violation]) -> String {
    found.iter().map(|v| format!("  {v}\n")).collect()
}
