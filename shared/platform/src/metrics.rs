//! CloudWatch metrics as embedded-metric-format (EMF) log lines: one JSON object per line on
//! stdout, which Lambda's log delivery turns into metrics with no API call and no extra
//! permission. The line is built by a pure function; [`emit`] only prints it.

use serde_json::{Map, Value, json};

/// The namespace of every wacamp metric.
pub const NAMESPACE: &str = "wacamp";

/// A metric's unit, as CloudWatch names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count of things.
    Count,
    /// A duration in milliseconds.
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
        }
    }
}

/// One value of a metric line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metric<'a> {
    /// Its name (`sent`).
    pub name: &'a str,
    /// Its value.
    pub value: f64,
    /// Its unit.
    pub unit: Unit,
}

/// The EMF line for `metrics` under the one dimension `function` (`FunctionName`), stamped at
/// `timestamp_ms` (milliseconds since the epoch).
pub fn emf_line(function: &str, metrics: &[Metric<'_>], timestamp_ms: u64) -> String {
    let definitions: Vec<Value> =
        metrics.iter().map(|m| json!({ "Name": m.name, "Unit": m.unit.as_str() })).collect();
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": definitions,
            }],
        }),
    );
    root.insert("FunctionName".into(), Value::from(function));
    for metric in metrics {
        root.insert(metric.name.into(), json!(metric.value));
    }
    Value::Object(root).to_string()
}

/// Prints the EMF line of `metrics` for this function (`AWS_LAMBDA_FUNCTION_NAME`, or `local`).
pub fn emit(metrics: &[Metric<'_>]) {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".to_owned());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    println!("{}", emf_line(&function, metrics, now));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_line_declares_each_value_under_the_function_dimension() {
        let line = emf_line(
            "sender-fn",
            &[
                Metric { name: "sent", value: 3.0, unit: Unit::Count },
                Metric { name: "ms_per_message", value: 812.0, unit: Unit::Milliseconds },
            ],
            1_700_000_000_000,
        );
        assert!(!line.contains('\n'));
        let value: Value = serde_json::from_str(&line).unwrap();
        let declared = &value["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(value["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(declared["Namespace"], "wacamp");
        assert_eq!(declared["Dimensions"], json!([["FunctionName"]]));
        assert_eq!(declared["Metrics"][1], json!({ "Name": "ms_per_message", "Unit": "Milliseconds" }));
        assert_eq!(value["FunctionName"], "sender-fn");
        assert_eq!(value["sent"], 3.0);
        assert_eq!(value["ms_per_message"], 812.0);
    }
}
