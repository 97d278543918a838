#!/usr/bin/env bash
# `make test`: install what is missing, start the local AWS unless one runs (and stop only what
# this run started), lint, build the Lambda binaries, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
started=0
if ! localstack/ministack.sh status >/dev/null 2>&1; then
  localstack/ministack.sh start
  started=1
else
  echo "test: reusing the local AWS that is already running" >&2
fi
cleanup() { if [[ $started -eq 1 ]]; then localstack/ministack.sh stop; fi; }
trap cleanup EXIT

make --no-print-directory lint
make --no-print-directory build
# The same features as `make build`, so the test build never replaces the deployed binaries
# (a package with integration tests has its binaries built for them).
cargo test --workspace --no-fail-fast --features sender/failpoints
