//! Checks of `infra/template.yaml` against the code it deploys, without AWS: each function's
//! role grants only actions its code calls (or that AWS requires of it), on the stack's own
//! resources, with no wildcard action and no wildcard resource.
//!
//! - [`template`]: the functions of a template and the statements of their policies.
//! - [`usage`]: the AWS calls a package's code makes, through its workspace dependencies.
//! - [`policy`]: the least-privilege rules, as a list of violations.

pub mod policy;
pub mod template;
pub mod usage;

pub use policy::{Violation, check};
pub use template::{Function, Statement, functions};
pub use usage::{CodeUsage, iam_action};
