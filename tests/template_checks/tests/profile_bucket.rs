//! The bucket of login archives is safe by default: TLS only, pruned generations expire, and its
//! encryption can be a customer's KMS key.

use serde_norway::Value;
use std::path::Path;
use template_checks::template::text;

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).expect("infra/template.yaml")).expect("it parses")
}

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<&'a Value> {
    let all = template.get("Resources").and_then(Value::as_mapping).expect("Resources");
    all.values().filter(|r| r.get("Type").and_then(Value::as_str) == Some(kind)).collect()
}

#[test]
fn the_profile_bucket_denies_every_request_that_is_not_over_tls() {
    let template = template();
    let policies = resources_of_type(&template, "AWS::S3::BucketPolicy");
    let statements: Vec<&Value> = policies
        .iter()
        .filter(|p| p["Properties"].get("Bucket").map(text).as_deref() == Some("Ref:ProfileBucket"))
        .flat_map(|p| p["Properties"]["PolicyDocument"]["Statement"].as_sequence().into_iter().flatten())
        .collect();
    assert!(
        statements.iter().any(|s| {
            text(&s["Effect"]) == "Deny"
                && text(&s["Action"]) == "s3:*"
                && text(&s["Condition"]["Bool"]["aws:SecureTransport"]) == "false"
                && text(&s["Resource"]).contains("GetAtt:ProfileBucket.Arn")
                && text(&s["Resource"]).contains("${ProfileBucket.Arn}/*")
        }),
        "no TLS-only statement on ProfileBucket: {statements:?}"
    );
}

#[test]
fn pruned_generations_expire_after_the_configured_days() {
    let template = template();
    let bucket = &template["Resources"]["ProfileBucket"]["Properties"];
    assert_eq!(text(&bucket["VersioningConfiguration"]["Status"]), "Enabled");
    let rules = bucket["LifecycleConfiguration"]["Rules"].as_sequence().expect("lifecycle rules");
    assert!(
        rules.iter().any(|r| text(&r["Status"]) == "Enabled"
            && text(&r["NoncurrentVersionExpiration"]["NoncurrentDays"]) == "Ref:NoncurrentVersionDays"),
        "no rule expiring noncurrent versions: {rules:?}"
    );
}

#[test]
fn the_profile_bucket_is_encrypted_with_the_customers_key_when_one_is_given() {
    let template = template();
    let rule = &template["Resources"]["ProfileBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        [0]["ServerSideEncryptionByDefault"];
    let branches = text(rule);
    assert!(branches.starts_with("If:HasProfileKmsKey"), "{branches}");
    assert!(
        branches.contains("aws:kms")
            && branches.contains("Ref:ProfileKmsKeyArn")
            && branches.contains("AES256")
    );
}
