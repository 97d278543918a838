//! The functions of a SAM template and the statements of their inline policies, with the
//! intrinsic functions written as text (`!GetAtt Queue.Arn` is `GetAtt:Queue.Arn`).

use serde_norway::Value;
use serde_norway::value::TaggedValue;

/// One `AWS::Serverless::Function` of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Its logical id (`SenderFunction`).
    pub logical_id: String,
    /// The Cargo package whose binary it runs (from `CodeUri`'s `<package>.zip`, or `sender` for
    /// the image).
    pub package: String,
    /// The queues whose event source mapping invokes it (logical ids).
    pub event_queues: Vec<String>,
    /// The table streams its `DynamoDB` events read (the stream's reference as written).
    pub event_streams: Vec<String>,
    /// Every statement of its inline policies, including those behind a condition.
    pub statements: Vec<Statement>,
    /// Names of SAM policy templates or managed policies it uses (only inline statements are allowed).
    pub other_policies: Vec<String>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `Sid`, or `#<index>` when there is none.
    pub sid: String,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Actions as written (`dynamodb:GetItem`).
    pub actions: Vec<String>,
    /// Resources as text: a literal, `Ref:X`, `GetAtt:X.Arn` or the `Sub` string.
    pub resources: Vec<String>,
}

/// The functions of `template` (the parsed YAML), in file order.
pub fn functions(template: &Value) -> Result<Vec<Function>, String> {
    let resources =
        template.get("Resources").and_then(Value::as_mapping).ok_or("the template has no Resources")?;
    let mut out = Vec::new();
    for (id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = id.as_str().ok_or("a resource id is not text")?.to_owned();
        let props = resource.get("Properties").ok_or_else(|| format!("{id} has no Properties"))?;
        out.push(function(&id, props)?);
    }
    Ok(out)
}

fn function(id: &str, props: &Value) -> Result<Function, String> {
    let package = match props.get("PackageType").and_then(Value::as_str) {
        Some("Image") => "sender".to_owned(),
        _ => {
            let key = props.get("CodeUri").and_then(|c| c.get("Key")).map(text).unwrap_or_default();
            key.rsplit('/')
                .next()
                .and_then(|file| file.strip_suffix(".zip"))
                .ok_or_else(|| format!("{id}: CodeUri.Key '{key}' does not name a <package>.zip"))?
                .to_owned()
        }
    };
    let mut event_queues = Vec::new();
    let mut event_streams = Vec::new();
    if let Some(events) = props.get("Events").and_then(Value::as_mapping) {
        for event in events.values() {
            if event.get("Type").and_then(Value::as_str) == Some("SQS") {
                let queue =
                    event.get("Properties").and_then(|p| p.get("Queue")).map(text).unwrap_or_default();
                let logical = queue.strip_prefix("GetAtt:").and_then(|q| q.strip_suffix(".Arn"));
                event_queues.push(logical.unwrap_or(&queue).to_owned());
            }
            if event.get("Type").and_then(Value::as_str) == Some("DynamoDB") {
                event_streams.push(
                    event.get("Properties").and_then(|p| p.get("Stream")).map(text).unwrap_or_default(),
                );
            }
        }
    }
    let mut statements = Vec::new();
    let mut other_policies = Vec::new();
    for policy in props.get("Policies").and_then(Value::as_sequence).into_iter().flatten() {
        match policy.get("Statement").and_then(Value::as_sequence) {
            Some(list) => {
                for item in list {
                    if let Some(statement) = unconditional(item) {
                        statements.push(statement_of(statement, statements.len())?);
                    }
                }
            }
            None => other_policies.push(match policy {
                Value::Mapping(m) => m.keys().map(text).collect::<Vec<_>>().join(","),
                other => text(other),
            }),
        }
    }
    Ok(Function {
        logical_id: id.to_owned(),
        package,
        event_queues,
        event_streams,
        statements,
        other_policies,
    })
}

/// A statement, or the statement behind `!If [cond, statement, !Ref AWS::NoValue]` (checked as
/// if the condition held); `None` for a bare `AWS::NoValue`.
fn unconditional(item: &Value) -> Option<&Value> {
    match item {
        Value::Tagged(tagged) if tagged.tag == "If" => {
            tagged.value.as_sequence().and_then(|branches| branches.get(1)).and_then(unconditional)
        }
        Value::Tagged(tagged) if tagged.tag == "Ref" && text(&tagged.value) == "AWS::NoValue" => None,
        other => Some(other),
    }
}

fn statement_of(item: &Value, index: usize) -> Result<Statement, String> {
    let list = |key: &str| -> Vec<String> {
        match item.get(key) {
            Some(Value::Sequence(items)) => items.iter().map(text).collect(),
            Some(one) => vec![text(one)],
            None => Vec::new(),
        }
    };
    let sid = item.get("Sid").map(text).unwrap_or_else(|| format!("#{index}"));
    let effect = item.get("Effect").map(text).ok_or_else(|| format!("statement {sid} has no Effect"))?;
    Ok(Statement { sid, effect, actions: list("Action"), resources: list("Resource") })
}

/// A scalar or an intrinsic function as text.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Tagged(tagged) => tagged_text(tagged),
        Value::Sequence(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        Value::Mapping(map) => {
            let pairs: Vec<String> = map.iter().map(|(k, v)| format!("{}={}", text(k), text(v))).collect();
            format!("{{{}}}", pairs.join(";"))
        }
        Value::Null => String::new(),
    }
}

fn tagged_text(tagged: &TaggedValue) -> String {
    let tag = tagged.tag.to_string();
    let tag = tag.trim_start_matches('!');
    match tag {
        "Sub" => text(&tagged.value),
        other => format!("{other}:{}", text(&tagged.value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Queue: { Type: AWS::SQS::Queue }
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: { Bucket: b, Key: !Sub "${CodePrefix}/worker.zip" }
      Policies:
        - DynamoDBReadPolicy: { TableName: t }
        - Statement:
            - Sid: Queue
              Effect: Allow
              Action: [sqs:SendMessage]
              Resource: !GetAtt Queue.Arn
            - !If [HasKey, { Effect: Allow, Action: kms:Decrypt, Resource: !Ref Key }, !Ref AWS::NoValue]
      Events:
        Q: { Type: SQS, Properties: { Queue: !GetAtt Queue.Arn } }
"#;

    #[test]
    fn functions_are_read_with_their_package_events_and_conditional_statements() {
        let value: Value = serde_norway::from_str(TEMPLATE).unwrap();
        let all = functions(&value).unwrap();
        assert_eq!(all.len(), 1);
        let worker = &all[0];
        assert_eq!(worker.package, "worker");
        assert_eq!(worker.event_queues, ["Queue"]);
        assert_eq!(worker.other_policies, ["DynamoDBReadPolicy"]);
        assert_eq!(worker.statements[0].resources, ["GetAtt:Queue.Arn"]);
        assert_eq!(worker.statements[1].actions, ["kms:Decrypt"]);
        assert_eq!(worker.statements[1].resources, ["Ref:Key"]);
    }
}
