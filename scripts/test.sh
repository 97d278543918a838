#!/usr/bin/env bash
# `make test`: install what is missing, start the local AWS unless one runs (and stop only what
# this run started), lint, build the Lambda binaries, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# A full run takes about 10 GB (the build most of it, then the local AWS's state, the image and
# the browsers' profiles); say so up front rather than let a full disk pass for a failing test.
free_mb=$(df -Pm . | awk 'NR == 2 { print $4 }')
if [[ -n "$free_mb" && "$free_mb" -lt 12000 ]]; then
  echo "test: warning: only ${free_mb} MB free here; a full run needs about 10 GB (CARGO_INCREMENTAL=0 saves about 3 GB)" >&2
fi
scripts/setup.sh
started=0
if ! localstack/ministack.sh status >/dev/null 2>&1; then
  localstack/ministack.sh start
  started=1
else
  echo "test: reusing the local AWS that is already running" >&2
fi
# Each phase's time, printed at the end (CI keeps a whole run within its budget by these).
phases=()
lap_start=0  # SECONDS counts from the script's start: the first lap is the setup
lap() { phases+=("$1 $((SECONDS - lap_start))s"); lap_start=$SECONDS; }
cleanup() {
  if [[ ${#phases[@]} -gt 0 ]]; then echo "test: times: ${phases[*]}; in all ${SECONDS}s" >&2; fi
  if [[ $started -eq 1 ]]; then localstack/ministack.sh stop; fi
}
trap cleanup EXIT
lap setup

make --no-print-directory lint
lap lint
make --no-print-directory build
lap build
# The sender's Lambda image, with the test build as its bootstrap (its crash points are inert
# without FAILPOINTS), built beside the test build; the image test runs it as Lambda would.
mkdir -p .local
IMAGE_BINARY=target/debug/sender scripts/image.sh >.local/image.log 2>&1 &
image_pid=$!
# The same features as `make build` everywhere, so the test build never replaces the deployed
# binaries (a package with integration tests has its binaries built for them). One build; then
# the long end-to-end tests (each on its own stack, mostly waiting on queue timeouts or on
# Chromium in the image, or on a scheduled start) run beside everything else.
features=(--workspace --features sender/failpoints,platform/test-clock)
long=(two_campaigns_under_every_aws_fault whatsapp_web_unreachable_past_every_receive
  the_sender_image_sends_a_batch_as_lambda_runs_it_writing_only_tmp_within_its_memory
  a_campaign_scheduled_ahead_runs_no_sender_before_its_time)
cargo test "${features[@]}" --no-run
lap test-build
if ! wait "$image_pid"; then
  echo "test: make image failed; .local/image.log ends:" >&2
  tail -n 30 .local/image.log >&2
fi
tail -n 1 .local/image.log >&2
lap image-wait
cargo test "${features[@]}" --tests -- "${long[@]}" >.local/test-long.log 2>&1 &
long_pid=$!
status=0
cargo test "${features[@]}" --no-fail-fast -- "${long[@]/#/--skip=}" || status=$?
lap tests
long_status=0
wait "$long_pid" || long_status=$?
lap long-tests-wait
echo "test: the long end-to-end tests (${long[*]}):" >&2
grep -E '^test [a-z_]+ \.\.\. |^sender image:|^faults injected|^[A-Z][A-Za-z -]+ +[0-9]+$|^reconciler|^outcome|panicked' .local/test-long.log >&2 || true
if [[ $long_status -ne 0 ]]; then
  echo "test: the long end-to-end tests failed; their full output is in .local/test-long.log:" >&2
  tail -n 200 .local/test-long.log >&2
fi
[[ $status -eq 0 && $long_status -eq 0 ]]
