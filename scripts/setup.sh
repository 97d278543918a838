#!/usr/bin/env bash
# Installs what the tests and the demo need, when missing: Debian's Chromium and the
# project-local venv with the local AWS tools. Idempotent; fast when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${WA_CHROMIUM_PATH:-/usr/lib/chromium/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: Chromium is missing at $CHROMIUM: run \`sudo apt-get install -y chromium\`" >&2
    exit 1
  fi
  echo "setup: installing Debian chromium" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium fonts-liberation ca-certificates curl >/dev/null
fi
command -v curl >/dev/null || { echo "setup: curl is missing: run \`apt-get install -y curl\`" >&2; exit 1; }
localstack/ministack.sh install
# Unused dependencies are a lint (`make lint`); the checker runs offline once installed.
MACHETE_VERSION="0.9.2"
if ! cargo machete --version 2>/dev/null | grep -q "$MACHETE_VERSION"; then
  echo "setup: installing cargo-machete $MACHETE_VERSION" >&2
  cargo install --locked --quiet cargo-machete --version "$MACHETE_VERSION"
fi
for tool in rustfmt clippy-driver; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is missing: run \`rustup component add rustfmt clippy\`" >&2; exit 1; }
done
