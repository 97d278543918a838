//! `bench-table`: the results `make bench` collected, as one table of ratios on stdout and as
//! JSON in `.local/bench.json` (or the path given), so runs can be compared.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let results = measure::report::results_path();
    let out = std::env::args_os().nth(1).map_or_else(|| results.with_file_name("bench.json"), PathBuf::from);
    let text = match std::fs::read_to_string(&results) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("bench-table: reading {}: {e} (run `make bench`)", results.display());
            return ExitCode::FAILURE;
        }
    };
    let ratios = match measure::report::parse(&text) {
        Ok(ratios) => ratios,
        Err(e) => {
            eprintln!("bench-table: {}: {e}", results.display());
            return ExitCode::FAILURE;
        }
    };
    print!("{}", measure::report::table(&ratios));
    let measured_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let json = serde_json::json!({ "measured_at_unix": measured_at, "ratios": ratios });
    let written = serde_json::to_string_pretty(&json)
        .map_err(|e| e.to_string())
        .and_then(|text| std::fs::write(&out, text + "\n").map_err(|e| e.to_string()));
    match written {
        Ok(()) => {
            println!("bench-table: {} ratios written to {}", ratios.len(), out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-table: writing {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}
