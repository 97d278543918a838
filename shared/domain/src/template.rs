//! Message templates with `{{name}}` placeholders, checked once at parse time and rendered per
//! recipient with that recipient's variables.

use serde::{Deserialize, Serialize};
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
        let mut rest = source;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or(TemplateError::Malformed(offset + start))?;
            let name = after[..end].trim();
            let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(TemplateError::Malformed(offset + start));
            }
            parts.push(Part::Var(name.to_owned()));
            let consumed = start + 2 + end + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
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

    /// The text for one recipient.
    pub fn render(&self, vars: &Vars) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.source.len());
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => {
                    out.push_str(vars.get(v).ok_or_else(|| TemplateError::MissingVariable(v.clone()))?)
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
    fn deserialised_templates_are_parsed() {
        let t: Template = serde_json::from_str("\"Hello {{n}}\"").unwrap();
        assert_eq!(t.render(&vars(&[("n", "x")])).unwrap(), "Hello x");
    }
}
