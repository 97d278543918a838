#!/usr/bin/env bash
# `make demo`: deploy the stack to the local AWS and run one campaign through every function's
# real trigger, printing each step.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK="${STACK:-wacamp-demo}"
BIN="${CARGO_TARGET_DIR:-target}/debug"
export WACAMP_API_KEY="${WACAMP_API_KEY:-demo-key-$(date +%s)}"

scripts/setup.sh
started=0
if ! localstack/ministack.sh status >/dev/null 2>&1; then localstack/ministack.sh start; started=1; fi
cleanup() { if [[ $started -eq 1 ]]; then localstack/ministack.sh stop; fi; }
trap cleanup EXIT

echo "== 1. build the Lambda bootstrap binaries and the CLI"
cargo build -q -p start_campaign -p sender -p campaign_status -p wacamp
echo "== 2. deploy infra/template.yaml to the local AWS as stack $STACK"
.venv/bin/python infra/deploy.py --stack "$STACK" --outputs ".local/stacks/$STACK.json" \
  --param SenderTimeoutSeconds=30 --param RetryDelaySeconds=2 >/dev/null
export WACAMP_STACK="$STACK"
account="demo-$(date +%s)"
echo "== 3. start a campaign from examples/recipients.csv (HTTP -> start_campaign -> DynamoDB + SQS FIFO)"
out="$("$BIN/wacamp" start --csv examples/recipients.csv --account "$account" --region DE \
  --name "demo" --template 'Hi {{name}}, your order {{order}} has shipped.')"
echo "$out"
id="$(awk '/^campaign /{print $2; exit}' <<<"$out")"
echo "== 4. watch it (SQS -> sender; HTTP -> campaign_status)"
"$BIN/wacamp" status "$id" --watch --timeout 120
echo "== done: account $account has no WhatsApp Web session yet, so the sender paused every"
echo "   message (nothing lost) and the status shows the commands that continue the campaign."
