//! Measurements shared by the benchmarks and the tests that bound memory: the proportional set
//! size of a whole process tree ([`pss`]), and the benchmark results file `make bench` collects
//! into one table of ratios ([`report`]).

pub mod pss;
pub mod report;

pub use pss::tree_pss_bytes;
pub use report::{Ratio, record};
