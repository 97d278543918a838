//! End-to-end tests of the deployed stack, driven through its real triggers (HTTP, SQS, the
//! sender's Chromium); they live in `tests/`, the world they share in the `test_support` crate.
