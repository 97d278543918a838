//! The least-privilege rules for the functions' roles, as a list of violations (empty when the
//! template keeps them).
//!
//! A function may be granted an action when its code (through its workspace dependencies) calls
//! it, or when AWS requires it of the function: an SQS event source polls with the function's
//! role (`ReceiveMessage`, `DeleteMessage`, `GetQueueAttributes`); a missing object reads as 404
//! rather than 403 only with `s3:ListBucket`; objects under SSE-KMS need `kms:Decrypt` and
//! `kms:GenerateDataKey`. Every grant is on a resource of the stack, never `*`.

use crate::template::Function;
use crate::usage::CodeUsage;
use std::collections::BTreeSet;

/// One broken rule, naming the function and the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// An action with a `*` in it.
    WildcardAction {
        /// The function's logical id.
        function: String,
        /// The statement's `Sid`.
        sid: String,
        /// The action as written.
        action: String,
    },
    /// A resource that is `*`, a literal ARN, or a pattern wider than a named prefix.
    WideResource {
        /// The function's logical id.
        function: String,
        /// The statement's `Sid`.
        sid: String,
        /// The resource as text.
        resource: String,
    },
    /// An action neither the function's code nor AWS needs.
    UnusedAction {
        /// The function's logical id.
        function: String,
        /// The statement's `Sid`.
        sid: String,
        /// The action as written.
        action: String,
    },
    /// A SAM policy template or managed policy instead of an inline statement.
    PolicyTemplate {
        /// The function's logical id.
        function: String,
        /// The policy's name.
        name: String,
    },
    /// The package the function runs could not be read.
    Unreadable {
        /// The function's logical id.
        function: String,
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WildcardAction { function, sid, action } => {
                write!(f, "{function}/{sid}: wildcard action {action}")
            }
            Self::WideResource { function, sid, resource } => {
                write!(f, "{function}/{sid}: resource '{resource}' is not one of the stack's own")
            }
            Self::UnusedAction { function, sid, action } => {
                write!(
                    f,
                    "{function}/{sid}: {action} is called by no code of the function and not required by AWS"
                )
            }
            Self::PolicyTemplate { function, name } => {
                write!(
                    f,
                    "{function}: policy {name} grants more than the code calls; write the statement out"
                )
            }
            Self::Unreadable { function, reason } => write!(f, "{function}: {reason}"),
        }
    }
}

/// The actions `function` may be granted: those its code calls plus those AWS requires of it.
pub fn allowed_actions(function: &Function, usage: &CodeUsage) -> Result<BTreeSet<String>, String> {
    let code = usage.actions(&function.package)?;
    let mut allowed: BTreeSet<String> = code.iter().map(|a| (*a).to_owned()).collect();
    if !function.event_queues.is_empty() {
        allowed
            .extend(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"].map(String::from));
    }
    // Lambda reads a stream event source with the function's role.
    if !function.event_streams.is_empty() {
        allowed.extend(
            [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ]
            .map(String::from),
        );
    }
    if code.contains("s3:GetObject") {
        allowed.insert("s3:ListBucket".into());
    }
    if code.iter().any(|a| a.starts_with("s3:")) {
        allowed.extend(["kms:Decrypt", "kms:GenerateDataKey"].map(String::from));
    }
    Ok(allowed)
}

/// Every violation of the rules by `functions`.
pub fn check(functions: &[Function], usage: &CodeUsage) -> Vec<Violation> {
    let mut out = Vec::new();
    for function in functions {
        let name = || function.logical_id.clone();
        out.extend(
            function
                .other_policies
                .iter()
                .map(|p| Violation::PolicyTemplate { function: name(), name: p.clone() }),
        );
        let allowed = match allowed_actions(function, usage) {
            Ok(allowed) => allowed,
            Err(reason) => {
                out.push(Violation::Unreadable { function: name(), reason });
                continue;
            }
        };
        for statement in function.statements.iter().filter(|s| s.effect == "Allow") {
            let sid = || statement.sid.clone();
            for action in &statement.actions {
                if action.contains('*') {
                    out.push(Violation::WildcardAction {
                        function: name(),
                        sid: sid(),
                        action: action.clone(),
                    });
                } else if !allowed.contains(action) {
                    out.push(Violation::UnusedAction {
                        function: name(),
                        sid: sid(),
                        action: action.clone(),
                    });
                }
            }
            for resource in statement.resources.iter().filter(|r| !own_resource(r)) {
                out.push(Violation::WideResource {
                    function: name(),
                    sid: sid(),
                    resource: resource.clone(),
                });
            }
        }
    }
    out
}

/// A reference to a resource or parameter of the template (`GetAtt:`, `Ref:`), or a `Sub` on one
/// whose only `*` ends a named path (`${Table.Arn}/index/*`, `${Bucket.Arn}/profiles/*`).
fn own_resource(resource: &str) -> bool {
    if let Some(reference) = resource.strip_prefix("GetAtt:").or_else(|| resource.strip_prefix("Ref:")) {
        return !reference.is_empty() && !reference.contains('*');
    }
    let Some(rest) = resource.strip_prefix("${").and_then(|r| r.split_once('}')).map(|(_, rest)| rest) else {
        return false;
    };
    match rest.find('*') {
        None => true,
        Some(at) => {
            at == rest.len() - 1 && rest[..at].trim_matches('/').split('/').all(|segment| !segment.is_empty())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_references_and_named_prefixes_count_as_own_resources() {
        assert!(own_resource("GetAtt:Queue.Arn"));
        assert!(own_resource("Ref:AlertTopic"));
        assert!(own_resource("${Table.Arn}/index/*"));
        assert!(own_resource("${ProfileBucket.Arn}/profiles/*"));
        assert!(!own_resource("*"));
        assert!(!own_resource("${ProfileBucket.Arn}/*"));
        assert!(!own_resource("${ProfileBucket.Arn}*"));
        assert!(!own_resource("arn:aws:sqs:us-east-1:123:q"));
        assert!(!own_resource("${Table.Arn}/*/x"));
    }
}
