//! The configuration variables stay true to each other: every environment variable a hint of the
//! error catalogue or the README's configuration table names is one the code reads, and every
//! variable the code reads is in that table. The code is read as text: the reader calls
//! (`platform::required("X")`, `std::env::var("X")`, clap's `env = "X"`, `…_ENV: &str = "X"`,
//! Python's `os.environ.get("X")`, shell `${X…}`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use regex::Regex;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Variables read by the SDK or by cargo themselves, which the code passes on but never reads
/// through its own reader calls.
const TOOL_VARIABLES: &[&str] = &["AWS_REGION", "AWS_DEFAULT_REGION", "CARGO_TARGET_DIR", "RUST_LOG"];

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() {
            if !matches!(name, "target" | "fuzz" | ".venv" | ".local" | "node_modules") {
                files(&path, ext, out);
            }
        } else if name.ends_with(ext) {
            out.push(path);
        }
    }
}

/// The text of a Rust file without its inline `#[cfg(test)] mod … {` (unit tests invent variables).
fn production(text: &str) -> &str {
    let tests = Regex::new(r"#\[cfg\(test\)\]\s*mod \w+ \{").unwrap();
    tests.find(text).map_or(text, |m| &text[..m.start()])
}

/// The variables the Rust and Python code reads.
fn read_by_code() -> BTreeSet<String> {
    let root = root();
    let rust = Regex::new(
        r#"(?:required|optional|seconds|parsed|var|var_os|flag|stack_output)\(\s*(?:&?cli,\s*)?"([A-Z][A-Z0-9_]+)"|env\s*=\s*"([A-Z][A-Z0-9_]+)"|_ENV: &str = "([A-Z][A-Z0-9_]+)""#,
    )
    .unwrap();
    let python = Regex::new(r#"os\.environ\.get\("([A-Z][A-Z0-9_]+)""#).unwrap();
    let mut found = BTreeSet::new();
    let mut sources = Vec::new();
    for dir in ["functions", "shared", "cli", "tests"] {
        files(&root.join(dir), ".rs", &mut sources);
    }
    for path in sources {
        let text = std::fs::read_to_string(&path).unwrap();
        for c in rust.captures_iter(production(&text)) {
            found.insert(c.iter().skip(1).flatten().next().unwrap().as_str().to_owned());
        }
    }
    let mut scripts = Vec::new();
    files(&root.join("infra"), ".py", &mut scripts);
    for path in scripts {
        for c in python.captures_iter(&std::fs::read_to_string(&path).unwrap()) {
            found.insert(c[1].to_owned());
        }
    }
    found
}

/// The variables the shell scripts read (`${NAME:-…}` and `${NAME}`).
fn read_by_scripts() -> BTreeSet<String> {
    let root = root();
    let shell = Regex::new(r"\$\{([A-Z][A-Z0-9_]+)[:}]").unwrap();
    let mut scripts = Vec::new();
    for dir in ["scripts", "localstack", "shared/session_store/fuzz"] {
        files(&root.join(dir), ".sh", &mut scripts);
    }
    let mut found = BTreeSet::new();
    for path in scripts {
        for c in shell.captures_iter(&std::fs::read_to_string(&path).unwrap()) {
            found.insert(c[1].to_owned());
        }
    }
    found
}

/// The variables in the first column of the README's configuration table.
fn readme_table() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let table = readme.split("## Configuration").nth(1).expect("README has a Configuration section");
    let name = Regex::new(r"`([A-Z][A-Z0-9_]+)`").unwrap();
    let mut found = BTreeSet::new();
    for line in table.lines().skip_while(|l| !l.starts_with('|')).take_while(|l| l.starts_with('|')) {
        let first = line.split('|').nth(1).unwrap_or_default();
        for c in name.captures_iter(first) {
            found.insert(c[1].to_owned());
        }
    }
    found
}

/// The environment variables `text` names: upper-case words with an underscore that are not
/// error codes.
fn named_in(text: &str) -> BTreeSet<String> {
    let word = Regex::new(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b").unwrap();
    word.find_iter(text)
        .map(|m| m.as_str().to_owned())
        .filter(|w| domain::ErrorCode::from_wire(w).is_none())
        .collect()
}

/// The variables named in `hints` that are not in `known`.
fn unknown_variables(hints: &[&str], known: &BTreeSet<String>) -> Vec<String> {
    hints.iter().flat_map(|h| named_in(h)).filter(|v| !known.contains(v)).collect()
}

#[test]
fn every_variable_a_hint_names_is_read_by_the_code() {
    let known = read_by_code();
    let hints: Vec<&str> = domain::ErrorCode::ALL.iter().map(|c| c.hint()).collect();
    let unknown = unknown_variables(&hints, &known);
    assert!(unknown.is_empty(), "hints name variables nothing reads: {unknown:?}");
}

#[test]
fn a_hint_that_names_an_unknown_variable_is_caught() {
    let known = read_by_code();
    let unknown =
        unknown_variables(&["Set CHROMIUM_PATH to the browser, or TAKE_OVER_CONFLICT=true."], &known);
    assert_eq!(
        unknown,
        vec!["CHROMIUM_PATH".to_string()],
        "TAKE_OVER_CONFLICT is read; CHROMIUM_PATH is not"
    );
}

#[test]
fn every_variable_in_the_readme_table_is_read_by_the_code_or_a_script() {
    let read: BTreeSet<String> = read_by_code()
        .into_iter()
        .chain(read_by_scripts())
        .chain(TOOL_VARIABLES.iter().map(|v| (*v).to_owned()))
        .collect();
    let unread: Vec<String> = readme_table().into_iter().filter(|v| !read.contains(v)).collect();
    assert!(unread.is_empty(), "the README documents variables nothing reads: {unread:?}");
}

#[test]
fn every_variable_the_code_reads_is_in_the_readme_table() {
    let table = readme_table();
    let missing: Vec<String> = read_by_code()
        .into_iter()
        .filter(|v| !table.contains(v) && !TOOL_VARIABLES.contains(&v.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "read by the code but missing from the README's configuration table: {missing:?}"
    );
}
