#!/usr/bin/env bash
# `make demo`: the whole story on this machine. The stack is deployed to the local AWS and
# WhatsApp Web is the simulator (tests/wa_sim), so no real account is touched:
#   1. setup links an account by QR code (the simulator's admin API plays the phone);
#   2. a campaign of 30 (one invalid number, one not on WhatsApp) is sent and watched with the bar;
#      mid-campaign WhatsApp stops accepting the profile the sender stored last, and the sender
#      restores an older generation and goes on;
#   3. the phone logs the device out: the next campaign pauses with the command that fixes it;
#   4. setup --force links again and the paused campaign resumes by itself;
#   5. the summary is taken from the simulator's own delivery record and checked against the API.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK="${STACK:-wacamp-demo}"
BIN="${CARGO_TARGET_DIR:-target}/debug"
SIM_PORT="${SIM_PORT:-8790}"
SIM="http://127.0.0.1:$SIM_PORT"
export WACAMP_API_KEY="${WACAMP_API_KEY:-demo-key-$(date +%s)}"
# The CLI finds the stack in this config file, which the deploy below writes.
export WACAMP_CONFIG="$PWD/.local/demo-config.toml"
account="demo-$(date +%s)"
csv=".local/demo-recipients.csv"

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
fail() { echo "demo: $*" >&2; exit 1; }
admin() { curl -fsS -X POST -H 'content-type: application/json' -d "$2" "$SIM/_admin/$1" >/dev/null; }
sim_json() { curl -fsS "$SIM/_admin/$1"; }
# The phone scans whatever QR code setup shows (waits until one is on screen).
scan_when_shown() {
  for _ in $(seq 1 300); do
    qr="$(curl -fsS "$SIM/_admin/qr" || true)"
    if [[ "$qr" == *'"attempt"'* ]]; then admin link "{\"account\":\"$account\"}"; return 0; fi
    sleep 0.2
  done
  fail "no QR code appeared"
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
delivered_count() {
  sim_json "deliveries?account=$account" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["deliveries"]))'
}
# The newest credential generation the simulator issued to the account's device.
latest_generation() {
  sim_json sessions | python3 -c '
import json, sys
gens = [s["latest_generation"] for s in json.load(sys.stdin)["sessions"] if s["account"] == sys.argv[1]]
print(max(gens))' "$account"
}
# Once the campaign is sending, WhatsApp stops accepting every credential issued after `$1`
# (the one setup stored): the profile the running batch backs up will not log in again.
break_profile_when_sending() {
  for _ in $(seq 1 1500); do
    if (( $(delivered_count) >= 5 )); then
      admin damage "{\"account\":\"$account\",\"after_generation\":$1}"
      return 0
    fi
    sleep 0.2
  done
  fail "the campaign never started sending"
}
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# `wacamp status --watch`, whose exit code says how the campaign ended (0 over, 3 paused).
# Its output goes to the terminal (stderr here), only the code is captured.
watch() { local code=0; "$BIN/wacamp" status "$1" --watch --timeout 420 >&2 || code=$?; echo "$code"; }

step "1. build the Lambda bootstrap binaries, the CLI and the WhatsApp Web simulator"
cargo build -q -p start_campaign -p sender -p campaign_status -p session_keeper -p reconciler -p webhook_events -p webhook_delivery -p wacamp -p wa_sim
mkdir -p .local
"$BIN/wa_sim" --port "$SIM_PORT" --qr-rotation-ms 20000 --sync-ms 500 >.local/wa_sim.log 2>&1 &
sim_pid=$!
for _ in $(seq 1 50); do curl -fsS "$SIM/_admin/clock" >/dev/null 2>&1 && break; sleep 0.1; done
echo "simulator at $SIM"

step "2. deploy infra/template.yaml to the local AWS as stack $STACK"
.venv/bin/python infra/deploy.py --stack "$STACK" --outputs ".local/stacks/$STACK.json" --config-file "$WACAMP_CONFIG" \
  --param SenderTimeoutSeconds=120 --param RetryDelaySeconds=2 --param ClaimLeaseSeconds=20 \
  --param PaceMinMs=200 --param PaceMaxMs=800 --param "WhatsAppUrl=$SIM/" >/dev/null
api="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["HttpBaseUrl"].rstrip("/"))' ".local/stacks/$STACK.json")"

step "3. wacamp setup --account $account (QR in the terminal and as a PNG; the simulator's phone scans it)"
scan_when_shown & scan=$!
"$BIN/wacamp" setup --account "$account" --wa-url "$SIM/" --timeout 120
wait "$scan"
linked_generation="$(latest_generation)"

step "4. a campaign of 30: row 7 holds an invalid number, row 13 a number not on WhatsApp"
python3 - "$csv" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("phone,name\n")
    for i in range(1, 31):
        phone = "12" if i == 7 else f"+491511200{i:04d}"
        f.write(f"{phone},Customer {i}\n")
EOF
admin not-on-whatsapp '{"phone":"+4915112000013"}'
out="$("$BIN/wacamp" start --csv "$csv" --account "$account" --name "spring sale" \
  --template 'Hi {{name}}, our spring sale starts today.' --json)"
first="$(json_field campaign_id <<<"$out")"
echo "campaign $first accepted: $(json_field queued <<<"$out") queued, 1 invalid; follow it at $api/campaigns/$first/view"
echo "   (after the first deliveries, WhatsApp stops accepting the profile the sender stores next)"
break_profile_when_sending "$linked_generation" & breaker=$!
code="$(watch "$first")"
wait "$breaker"
[[ "$code" == 0 ]] || fail "the first campaign did not complete (watch exited $code)"
"$BIN/wacamp" status "$first"
"$BIN/wacamp" session list --account "$account"
notice="$("$BIN/wacamp" status "$first" --json | json_field notice)"
[[ "$notice" == SESSION_RESTORED_FROM_BACKUP ]] || fail "the sender did not report a restore from an older backup (notice: $notice)"
echo "   the sender found the stored profile refused, restored an older generation and went on"

step "5. the phone logs the device out: the next campaign pauses instead of failing"
admin revoke "{\"account\":\"$account\"}"
out="$("$BIN/wacamp" start --csv "$csv" --account "$account" --name "reminder" \
  --template 'Hi {{name}}, a reminder: the sale ends tonight.' --json)"
second="$(json_field campaign_id <<<"$out")"
code="$(watch "$second")"
[[ "$code" == 3 ]] || fail "the second campaign should have paused (watch exited $code)"

step "6. the operator runs the command from the hint: setup links again and resumes the campaign"
until_no_qr
scan_when_shown & scan=$!
"$BIN/wacamp" setup --account "$account" --force --wa-url "$SIM/" --timeout 120
wait "$scan"
code="$(watch "$second")"
[[ "$code" == 0 ]] || fail "the resumed campaign did not complete (watch exited $code)"

step "7. the summary, from the simulator's delivery record"
for id in "$first" "$second"; do
  "$BIN/wacamp" messages "$id" --status FAILED --json >".local/demo-failed-$id.ndjson"
  "$BIN/wacamp" status "$id" --json >".local/demo-status-$id.json"
done
sim_json "deliveries?account=$account" >.local/demo-deliveries.json
python3 - "$first" "$second" <<'EOF'
import collections, json, sys
deliveries = json.load(open(".local/demo-deliveries.json"))["deliveries"]
texts = {"spring sale": "our spring sale starts today", "reminder": "the sale ends tonight"}
ok = True
for campaign in sys.argv[1:]:
    status = json.load(open(f".local/demo-status-{campaign}.json"))
    failed = [json.loads(line) for line in open(f".local/demo-failed-{campaign}.ndjson")]
    mine = [d for d in deliveries if texts[status["name"]] in d["text"]]
    per_phone = collections.Counter(d["to"] for d in mine)
    duplicates = sum(n - 1 for n in per_phone.values())
    reasons = collections.Counter(f["code"] for f in failed)
    print(f"{status['name']} ({campaign}): sent {len(per_phone)} by the simulator's record "
          f"({status['counts']['sent']} by the API), failed {len(failed)} "
          f"({', '.join(f'{c} {n}' for c, n in sorted(reasons.items()))}), duplicates: {duplicates}")
    ok &= len(per_phone) == status["counts"]["sent"] == 28 and duplicates == 0
    ok &= sorted(reasons) == ["INVALID_PHONE", "NOT_ON_WHATSAPP"]
if not ok:
    sys.exit("demo: the summary does not match what the simulator recorded")
EOF
echo
echo "== done. The status pages: $api/view?account=$account and $api/campaigns/$first/view"
echo "   (the key is the WACAMP_API_KEY of this run: $WACAMP_API_KEY)"
