//! The clock a deployed function runs on: the wall clock. A test build (feature `test-clock`,
//! which `make build` turns on and `make release` does not) with `WACAMP_TEST_CLOCK_FILE` set
//! adds the whole seconds that file holds (none while it is missing or empty) at every reading,
//! so an end-to-end test moves the time of the functions of its own stack while they run — a
//! night passes, a window opens — without waiting for it.

use domain::SharedClock;

/// The variable naming the offset file of a test stack.
pub const TEST_CLOCK_ENV: &str = "WACAMP_TEST_CLOCK_FILE";

/// The clock for a function's `Deps`.
pub fn clock() -> SharedClock {
    #[cfg(feature = "test-clock")]
    if let Some(path) = std::env::var_os(TEST_CLOCK_ENV).filter(|p| !p.is_empty()) {
        return std::sync::Arc::new(Moved(std::path::PathBuf::from(path)));
    }
    domain::system_clock()
}

/// The wall clock moved by the seconds a file holds.
#[cfg(feature = "test-clock")]
struct Moved(std::path::PathBuf);

#[cfg(feature = "test-clock")]
impl Moved {
    fn offset(&self) -> i64 {
        std::fs::read_to_string(&self.0).ok().and_then(|t| t.trim().parse::<i64>().ok()).unwrap_or(0)
    }
}

#[cfg(feature = "test-clock")]
impl domain::Clock for Moved {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc() + time::Duration::seconds(self.offset())
    }

    fn ahead_of_runtime_ms(&self) -> i64 {
        self.offset().saturating_mul(1000)
    }
}

#[cfg(all(test, feature = "test-clock"))]
mod tests {
    use super::*;
    use domain::Clock;

    #[test]
    fn a_test_clock_runs_ahead_by_the_seconds_its_file_holds_and_on_time_without_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("offset");
        let clock = Moved(file.clone());
        let wall = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!((clock.unix() - wall).abs() <= 1, "no file: on time");
        std::fs::write(&file, "7200\n").unwrap_or_else(|e| panic!("{e}"));
        assert!((clock.unix() - wall - 7200).abs() <= 1);
        assert_eq!(clock.ahead_of_runtime_ms(), 7_200_000, "a runtime deadline is read in the moved time");
        std::fs::write(&file, "not a number").unwrap_or_else(|e| panic!("{e}"));
        assert!((clock.unix() - wall).abs() <= 1, "an unreadable offset is none");
    }
}
