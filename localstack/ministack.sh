#!/usr/bin/env bash
# Local AWS without Docker: MiniStack in a project-local venv.
#
#   localstack/ministack.sh install   create .venv and install the pinned tools (idempotent)
#   localstack/ministack.sh start     start MiniStack on 127.0.0.1:4566 unless it already answers
#   localstack/ministack.sh stop      stop the MiniStack this script started (by PID)
#   localstack/ministack.sh status    say whether the local AWS answers
#
# State and logs live in .local/ministack/ (git-ignored). Lambda functions run by MiniStack
# inherit its environment, so it is started with the endpoint and credentials the functions need.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STATE="$ROOT/.local/ministack"
PIDFILE="$STATE/ministack.pid"
LOG="$STATE/ministack.log"
PORT="${WACAMP_LOCAL_AWS_PORT:-4566}"
ENDPOINT="http://127.0.0.1:$PORT"
# MiniStack 1.5.33 pins botocore exactly; aws-sam-translator and awscli pull a different one.
BOTOCORE_PIN="1.43.106"

healthy() {
  curl -fsS -m 2 "$ENDPOINT/_ministack/health" >/dev/null 2>&1 \
    || curl -fsS -m 2 "$ENDPOINT/_localstack/health" >/dev/null 2>&1
}

install() {
  if [[ -x "$VENV/bin/ministack" && -f "$VENV/.wacamp-installed" ]] \
     && cat "$ROOT"/localstack/*requirements.txt | cmp -s - "$VENV/.wacamp-installed"; then
    return 0
  fi
  echo "ministack: installing pinned local AWS tools into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/localstack/requirements.txt"
  "$VENV/bin/pip" install -q -r "$ROOT/localstack/tools-requirements.txt" 2>&1 \
    | grep -v -e "dependency resolver" -e "requires botocore" >&2 || true
  "$VENV/bin/pip" install -q "botocore==$BOTOCORE_PIN" "boto3==$BOTOCORE_PIN" 2>&1 \
    | grep -v -e "dependency resolver" -e "awscli .* requires" >&2 || true
  "$VENV/bin/python" -c "import ministack, samtranslator, cfnlint, awscli" \
    || { echo "ministack: install incomplete" >&2; return 1; }
  cat "$ROOT"/localstack/*requirements.txt >"$VENV/.wacamp-installed"
}

start() {
  if healthy; then
    echo "ministack: already answering at $ENDPOINT (reused)" >&2
    return 0
  fi
  install
  mkdir -p "$STATE/state" "$STATE/home" "$STATE/tmp"
  echo "ministack: starting at $ENDPOINT (log: $LOG)" >&2
  (
    cd "$STATE"
    # Never set LAMBDA_STRICT=1 or LAMBDA_EXECUTOR=docker: both need a Docker engine.
    exec env \
      BIND_HOST=127.0.0.1 GATEWAY_PORT="$PORT" \
      PERSIST_STATE=1 STATE_DIR="$STATE/state" \
      AWS_ENDPOINT_URL="$ENDPOINT" \
      AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
      AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}" \
      HOME="$STATE/home" TMPDIR="$STATE/tmp" \
      "$VENV/bin/ministack" >"$LOG" 2>&1
  ) &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    if healthy; then echo "ministack: healthy" >&2; return 0; fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "ministack: exited during start; last log lines:" >&2; tail -20 "$LOG" >&2; return 1
    fi
    sleep 0.25
  done
  echo "ministack: not healthy after 30 s; see $LOG" >&2
  return 1
}

stop() {
  if [[ ! -f "$PIDFILE" ]]; then echo "ministack: not started by this script" >&2; return 0; fi
  local pid; pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    # A graceful stop writes the non-S3 state; give it a bounded time, then force.
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  echo "ministack: stopped" >&2
}

status() {
  if healthy; then echo "local AWS answering at $ENDPOINT"; else echo "local AWS not running (start it: make local-up)"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
