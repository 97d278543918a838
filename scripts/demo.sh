#!/usr/bin/env bash
# `make demo`: the main job end to end on this machine. The stack is deployed to the local AWS
# and WhatsApp Web is the simulator (tests/wa_sim), so no real account is touched:
#   1. setup links an account by QR code (the simulator's admin API plays the phone),
#   2. a campaign from a CSV is sent (HTTP -> start_campaign -> SQS FIFO -> sender -> Chromium),
#   3. the phone logs the device out: the next campaign pauses with the command that fixes it,
#   4. setup --force links again and resumes the paused campaign by itself; each message is sent once.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK="${STACK:-wacamp-demo}"
BIN="${CARGO_TARGET_DIR:-target}/debug"
SIM_PORT="${SIM_PORT:-8790}"
SIM="http://127.0.0.1:$SIM_PORT"
export WACAMP_API_KEY="${WACAMP_API_KEY:-demo-key-$(date +%s)}" WACAMP_STACK="$STACK"
account="demo-$(date +%s)"

scripts/setup.sh
started=0
if ! localstack/ministack.sh status >/dev/null 2>&1; then localstack/ministack.sh start; started=1; fi
sim_pid=""
cleanup() {
  [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null || true
  if [[ $started -eq 1 ]]; then localstack/ministack.sh stop; fi
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
admin() { curl -fsS -X POST -H 'content-type: application/json' -d "$2" "$SIM/_admin/$1" >/dev/null; }
# The phone scans whatever QR code setup shows (waits until one is on screen).
scan_when_shown() {
  for _ in $(seq 1 300); do
    qr="$(curl -fsS "$SIM/_admin/qr" || true)"
    if [[ "$qr" == *'"attempt"'* ]]; then admin link "{\"account\":\"$account\"}"; return 0; fi
    sleep 0.2
  done
  echo "demo: no QR code appeared" >&2; return 1
}
# Waits until no browser shows a QR code any more (a sender's closed page stays "live" briefly),
# so the scan goes to setup's page and not to a stale one.
until_no_qr() {
  for _ in $(seq 1 150); do
    qr="$(curl -fsS "$SIM/_admin/qr" || true)"
    [[ "$qr" != *'"attempt"'* ]] && return 0
    sleep 0.2
  done
}
campaign_id() { awk '/^campaign /{print $2; exit}'; }

step "1. build the Lambda bootstrap binaries, the CLI and the WhatsApp Web simulator"
cargo build -q -p start_campaign -p sender -p campaign_status -p wacamp -p wa_sim
"$BIN/wa_sim" --port "$SIM_PORT" --qr-rotation-ms 20000 --sync-ms 500 >.local/wa_sim.log 2>&1 &
sim_pid=$!
for _ in $(seq 1 50); do curl -fsS "$SIM/_admin/clock" >/dev/null 2>&1 && break; sleep 0.1; done
echo "simulator at $SIM"

step "2. deploy infra/template.yaml to the local AWS as stack $STACK"
.venv/bin/python infra/deploy.py --stack "$STACK" --outputs ".local/stacks/$STACK.json" \
  --param SenderTimeoutSeconds=120 --param RetryDelaySeconds=2 --param ClaimLeaseSeconds=20 \
  --param PaceMinMs=200 --param PaceMaxMs=800 --param "WhatsAppUrl=$SIM/" >/dev/null

step "3. wacamp setup --account $account (QR in the terminal; the simulator's phone scans it)"
scan_when_shown & scan=$!
"$BIN/wacamp" setup --account "$account" --wa-url "$SIM/" --timeout 120
wait "$scan"

step "4. wacamp start: a campaign from examples/recipients.csv"
out="$("$BIN/wacamp" start --csv examples/recipients.csv --account "$account" --region DE \
  --name "demo" --template 'Hi {{name}}, your order {{order}} has shipped.')"
echo "$out"
first="$(campaign_id <<<"$out")"
"$BIN/wacamp" status "$first" --watch --timeout 300
echo "delivered, as the recipients' side recorded it:"
curl -fsS "$SIM/_admin/deliveries?account=$account" | python3 -c 'import json,sys; [print("  +%s: %s" % (d["to"], d["text"])) for d in json.load(sys.stdin)["deliveries"]]'

step "5. the phone logs the device out; the next campaign pauses instead of failing"
admin revoke "{\"account\":\"$account\"}"
out="$("$BIN/wacamp" start --csv examples/recipients.csv --account "$account" --region DE \
  --name "after logout" --template 'Hi {{name}}, a reminder about {{order}}.')"
second="$(campaign_id <<<"$out")"
"$BIN/wacamp" status "$second" --watch --timeout 300

step "6. the operator runs setup --force: it links again and resumes the paused campaign by itself"
until_no_qr
scan_when_shown & scan=$!
"$BIN/wacamp" setup --account "$account" --force --wa-url "$SIM/" --timeout 120
wait "$scan"
"$BIN/wacamp" status "$second" --watch --timeout 300
n="$(curl -fsS "$SIM/_admin/deliveries?account=$account" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["deliveries"]))')"
echo
echo "== done: $n messages delivered for $account (3 per campaign; the invalid number was reported, not sent),"
echo "   the logged-out session paused the second campaign with nothing lost, and setup resumed and finished it."
