//! Message templates with `{{name}}` placeholders and `{Hi|Hello|Good day}` choices, checked
//! once at parse time and rendered per recipient with that recipient's variables.
//!
//! A choice picks one of its alternatives per recipient, from the campaign and the row alone
//! (a stable hash, the same on every run and every machine), so a number is not sent the same
//! text as hundreds of others, and every attempt of a row — a retry, the check in the chat
//! before one — renders exactly the text the first attempt did. A `{` that does not open a
//! choice (no `|` before its `}`) is plain text.

use crate::{CampaignId, MessageSeq};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A recipient's variables by name.
pub type Vars = BTreeMap<String, String>;

/// Why a template was refused or could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Nothing to send.
    #[error("template must not be empty")]
    Empty,
    /// Longer than WhatsApp accepts.
    #[error("template is {0} characters; the limit is {1}")]
    TooLong(usize, usize),
    /// `{{` without `}}`, or a bad variable name.
    #[error("template has a malformed placeholder at character {0}")]
    Malformed(usize),
    /// A choice with an empty alternative (`{Hi||Hello}`, `{Hi|}`).
    #[error("template has an empty alternative in the choice at character {0}")]
    EmptyAlternative(usize),
    /// A recipient lacks a variable the template uses.
    #[error("variable '{0}' is missing")]
    MissingVariable(String),
}

/// WhatsApp's limit for one text message.
pub const MAX_TEMPLATE_CHARS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
    /// Alternatives of literal text, one of which is rendered.
    Choice(Vec<String>),
}

/// A parsed template: literal text and named placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template {
    source: String,
    #[serde(skip)]
    parts: Vec<Part>,
}

impl Template {
    /// Parses `source`, refusing empty, oversize and malformed templates.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        if source.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        let chars = source.chars().count();
        if chars > MAX_TEMPLATE_CHARS {
            return Err(TemplateError::TooLong(chars, MAX_TEMPLATE_CHARS));
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = source;
        // Character positions for errors, as the other errors count them.
        let mut at = 0;
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            at += rest[..open].chars().count();
            let from = &rest[open..];
            if let Some(after) = from.strip_prefix("{{") {
                let end = after.find("}}").ok_or(TemplateError::Malformed(at))?;
                let name = after[..end].trim();
                let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(TemplateError::Malformed(at));
                }
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::Var(name.to_owned()));
                let consumed = 2 + end + 2;
                at += from[..consumed].chars().count();
                rest = &from[consumed..];
                continue;
            }
            // `{a|b}`: a choice when a `|` comes before the next `}` (and no other `{`).
            let body = &from[1..];
            let choice =
                body.find('}').map(|end| &body[..end]).filter(|b| b.contains('|') && !b.contains('{'));
            let Some(inner) = choice else {
                text.push('{');
                at += 1;
                rest = body;
                continue;
            };
            let alternatives: Vec<String> = inner.split('|').map(str::to_owned).collect();
            if alternatives.iter().any(|a| a.trim().is_empty()) {
                return Err(TemplateError::EmptyAlternative(at));
            }
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Choice(alternatives));
            let consumed = 1 + inner.len() + 1;
            at += from[..consumed].chars().count();
            rest = &from[consumed..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Self { source: source.to_owned(), parts })
    }

    /// The names of the variables the template uses, each once, in order of first use.
    pub fn variables(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for p in &self.parts {
            if let Part::Var(v) = p
                && !seen.contains(&v.as_str())
            {
                seen.push(v.as_str());
            }
        }
        seen
    }

    /// The first variable `vars` lacks, if any.
    pub fn missing_variable(&self, vars: &Vars) -> Option<&str> {
        self.variables().into_iter().find(|v| !vars.contains_key(*v))
    }

    /// The text for row `seq` of campaign `campaign`: its variables filled in and, of each
    /// choice, the alternative the campaign and the row pick.
    pub fn render_for(
        &self,
        vars: &Vars,
        campaign: &CampaignId,
        seq: MessageSeq,
    ) -> Result<String, TemplateError> {
        self.render_with(vars, |choice, alternatives| pick(campaign, seq, choice, alternatives.len()))
    }

    /// The longest text any row with these variables can get (the longest alternative of every
    /// choice), to check a recipient against a length limit before its row is known.
    pub fn render_longest(&self, vars: &Vars) -> Result<String, TemplateError> {
        self.render_with(vars, |_, alternatives| {
            (0..alternatives.len()).max_by_key(|i| alternatives[*i].chars().count()).unwrap_or(0)
        })
    }

    /// The text with the first alternative of every choice (for a template without choices,
    /// the text of every row).
    pub fn render(&self, vars: &Vars) -> Result<String, TemplateError> {
        self.render_with(vars, |_, _| 0)
    }

    /// Whether the template has choices.
    pub fn has_choices(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Choice(_)))
    }

    fn render_with(
        &self,
        vars: &Vars,
        pick: impl Fn(usize, &[String]) -> usize,
    ) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.source.len());
        let mut choice = 0;
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => {
                    out.push_str(vars.get(v).ok_or_else(|| TemplateError::MissingVariable(v.clone()))?)
                }
                Part::Choice(alternatives) => {
                    out.push_str(&alternatives[pick(choice, alternatives) % alternatives.len()]);
                    choice += 1;
                }
            }
        }
        Ok(out)
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// The alternative (of `n`) that choice number `choice` of the template picks for row `seq` of
/// `campaign`: SHA-256 of the three, so it is the same wherever and whenever it is computed.
fn pick(campaign: &CampaignId, seq: MessageSeq, choice: usize, n: usize) -> usize {
    let digest = Sha256::digest(format!("{campaign}\n{}\n{choice}", seq.0).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    usize::try_from(u64::from_be_bytes(first) % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
}

impl TryFrom<String> for Template {
    type Error = TemplateError;
    fn try_from(s: String) -> Result<Self, TemplateError> {
        Self::parse(&s)
    }
}

impl From<Template> for String {
    fn from(t: Template) -> String {
        t.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn placeholders_are_filled_from_the_recipients_variables() {
        let t = Template::parse("Hi {{name}}, your code is {{ code }}.").unwrap();
        assert_eq!(t.variables(), vec!["name", "code"]);
        assert_eq!(t.render(&vars(&[("name", "Ana"), ("code", "7")])).unwrap(), "Hi Ana, your code is 7.");
    }

    #[test]
    fn a_missing_variable_is_named() {
        let t = Template::parse("Hi {{name}}").unwrap();
        assert_eq!(t.missing_variable(&vars(&[])), Some("name"));
        assert_eq!(t.render(&vars(&[])), Err(TemplateError::MissingVariable("name".into())));
    }

    #[test]
    fn malformed_empty_and_oversize_templates_are_refused() {
        assert_eq!(Template::parse("Hi {{name"), Err(TemplateError::Malformed(3)));
        assert_eq!(Template::parse("Hi {{na me}}"), Err(TemplateError::Malformed(3)));
        assert_eq!(Template::parse("  "), Err(TemplateError::Empty));
        assert!(matches!(Template::parse(&"x".repeat(5000)), Err(TemplateError::TooLong(5000, 4096))));
    }

    #[test]
    fn a_choice_picks_one_alternative_per_row_the_same_every_time() {
        let t = Template::parse("{Hi|Hello|Good day} {{name}}, {thanks|thank you}!").unwrap();
        assert!(t.has_choices());
        assert_eq!(t.variables(), vec!["name"]);
        let campaign = CampaignId::parse("c-1").unwrap();
        let v = vars(&[("name", "Ana")]);
        let texts: Vec<String> =
            (0..60).map(|i| t.render_for(&v, &campaign, MessageSeq(i)).unwrap()).collect();
        // The same row renders the same text every time.
        assert_eq!(t.render_for(&v, &campaign, MessageSeq(7)).unwrap(), texts[7]);
        // Every alternative of each choice is used across rows.
        for greeting in ["Hi Ana", "Hello Ana", "Good day Ana"] {
            assert!(texts.iter().any(|x| x.starts_with(greeting)), "{greeting}: {texts:?}");
        }
        assert!(
            texts.iter().any(|x| x.ends_with("thanks!")) && texts.iter().any(|x| x.ends_with("thank you!"))
        );
        // Another campaign picks on its own.
        let other = CampaignId::parse("c-2").unwrap();
        let others: Vec<String> = (0..60).map(|i| t.render_for(&v, &other, MessageSeq(i)).unwrap()).collect();
        assert_ne!(texts, others);
        // The pick is a fixed function of campaign and row (a stable hash, not the process's).
        assert_eq!(
            pick(&campaign, MessageSeq(0), 0, 1_000_003),
            pick(&campaign, MessageSeq(0), 0, 1_000_003)
        );
        assert_eq!(t.render(&v).unwrap(), "Hi Ana, thanks!");
        assert_eq!(t.render_longest(&v).unwrap(), "Good day Ana, thank you!");
    }

    #[test]
    fn braces_that_open_no_choice_are_text_and_an_empty_alternative_is_refused() {
        let t = Template::parse("Use code {A7} or {x} {").unwrap();
        assert!(!t.has_choices());
        assert_eq!(t.render(&vars(&[])).unwrap(), "Use code {A7} or {x} {");
        assert_eq!(Template::parse("Hi {a||b}"), Err(TemplateError::EmptyAlternative(3)));
        assert_eq!(Template::parse("{a|} x"), Err(TemplateError::EmptyAlternative(0)));
        assert_eq!(Template::parse("ü {a| }"), Err(TemplateError::EmptyAlternative(2)));
        assert_eq!(
            Template::parse("{a|b} {{name").unwrap_err(),
            TemplateError::Malformed(6),
            "positions count characters after a choice"
        );
    }

    #[test]
    fn deserialised_templates_are_parsed() {
        let t: Template = serde_json::from_str("\"Hello {{n}}\"").unwrap();
        assert_eq!(t.render(&vars(&[("n", "x")])).unwrap(), "Hello x");
    }
}
