//! Benchmark results as ratios: each is a value measured in a run against its baseline measured
//! in the same run (so a slower machine moves both), appended as one JSON line to the results
//! file `make bench` starts empty, and gathered at its end into one table and `.local/bench.json`
//! by `bench-table`.

use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The variable naming the results file (default: `.local/bench-results.jsonl` at the root).
pub const RESULTS_ENV: &str = "WACAMP_BENCH_RESULTS";

/// One measured value against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    /// The benchmark that measured it (`send`, `cold_start`, ...).
    pub bench: String,
    /// What the ratio compares, as "measured / baseline".
    pub name: String,
    /// The measured value.
    pub value: f64,
    /// The baseline, measured in the same run.
    pub baseline: f64,
    /// The unit both are in.
    pub unit: String,
    /// The goal, when there is one: the ratio should be at most this.
    pub goal: Option<f64>,
}

impl Ratio {
    /// `value` against `baseline` in `unit`, with no goal.
    pub fn new(bench: &str, name: &str, value: f64, baseline: f64, unit: &str) -> Self {
        Self {
            bench: bench.to_owned(),
            name: name.to_owned(),
            value,
            baseline,
            unit: unit.to_owned(),
            goal: None,
        }
    }

    /// The same ratio with a goal: at most `at_most`.
    pub fn with_goal(mut self, at_most: f64) -> Self {
        self.goal = Some(at_most);
        self
    }

    /// `value / baseline` (infinite on a zero baseline).
    pub fn ratio(&self) -> f64 {
        if self.baseline == 0.0 { f64::INFINITY } else { self.value / self.baseline }
    }

    /// Whether the ratio meets its goal (`None` without one).
    pub fn meets_goal(&self) -> Option<bool> {
        self.goal.map(|goal| self.ratio() <= goal)
    }
}

/// The results file: `WACAMP_BENCH_RESULTS`, or `.local/bench-results.jsonl` at the workspace root.
pub fn results_path() -> PathBuf {
    std::env::var_os(RESULTS_ENV).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.local/bench-results.jsonl"),
        PathBuf::from,
    )
}

/// Prints `ratio` and appends it to the results file.
///
/// # Panics
/// When the results file cannot be written: a benchmark whose result is lost has failed.
pub fn record(ratio: &Ratio) {
    println!(
        "ratio {:<44} {:>9.3}x   ({:.1} / {:.1} {})",
        ratio.name,
        ratio.ratio(),
        ratio.value,
        ratio.baseline,
        ratio.unit
    );
    let path = results_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
    let line = serde_json::to_string(ratio).unwrap_or_else(|e| panic!("a ratio serialises: {e}"));
    writeln!(file, "{line}").unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// The ratios in `text` (one JSON object per line; blank lines skipped).
///
/// # Errors
/// A line that is not a ratio, named by its number.
pub fn parse(text: &str) -> Result<Vec<Ratio>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// The ratios as one aligned table, with a verdict column for those with a goal.
pub fn table(ratios: &[Ratio]) -> String {
    let width = ratios.iter().map(|r| r.bench.len() + r.name.len() + 2).max().unwrap_or(0).max(10);
    let mut out = format!(
        "{:<width$}  {:>10}  {:>12}  {:>12}  {:<12}  {}\n",
        "bench: ratio", "ratio", "value", "baseline", "unit", "goal"
    );
    for r in ratios {
        let goal = match (r.goal, r.meets_goal()) {
            (Some(goal), Some(true)) => format!("<= {goal} met"),
            (Some(goal), _) => format!("<= {goal} NOT met"),
            (None, _) => String::new(),
        };
        out.push_str(&format!(
            "{:<width$}  {:>9.3}x  {:>12.1}  {:>12.1}  {:<12}  {goal}\n",
            format!("{}: {}", r.bench, r.name),
            r.ratio(),
            r.value,
            r.baseline,
            r.unit
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_is_the_value_over_its_baseline_and_meets_a_goal_at_or_under_it() {
        let r = Ratio::new("send", "in place / floor", 180.0, 150.0, "ms/message").with_goal(1.2);
        assert!((r.ratio() - 1.2).abs() < 1e-9);
        assert_eq!(r.meets_goal(), Some(true));
        assert_eq!(Ratio::new("b", "n", 1.0, 0.0, "ms").ratio(), f64::INFINITY);
    }

    #[test]
    fn recorded_lines_parse_back_and_a_bad_line_is_named_by_its_number() {
        let r = Ratio::new("cold_start", "cold start / bare launch", 2.0, 1.0, "ms");
        let text =
            format!("{}\n\n{}\n", serde_json::to_string(&r).unwrap(), serde_json::to_string(&r).unwrap());
        assert_eq!(parse(&text).unwrap(), vec![r.clone(), r]);
        let err = parse("{}\nnot json").unwrap_err();
        assert!(err.starts_with("line 1:"), "{err}");
    }

    #[test]
    fn the_table_shows_each_ratio_and_whether_it_meets_its_goal() {
        let ratios = [
            Ratio::new("send", "in place / floor", 300.0, 150.0, "ms/message").with_goal(1.2),
            Ratio::new("send", "in place / full load", 300.0, 1500.0, "ms/message"),
        ];
        let table = table(&ratios);
        assert!(table.contains("send: in place / floor"), "{table}");
        assert!(table.contains("2.000x") && table.contains("NOT met"), "{table}");
        assert!(table.contains("0.200x"), "{table}");
    }
}
