#!/usr/bin/env bash
# Installs what the tests and the demo need, when missing: Debian packages (Chromium, the image
# tools) and the project-local venv with the local AWS tools. Idempotent; fast when everything is
# there.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${WA_CHROMIUM_PATH:-/usr/lib/chromium/chromium}"
# Debian packages: Chromium for the driver; bubblewrap, mmdebstrap and umoci to build the sender's
# image and run it as Lambda would (`make image`, the image test).
missing=()
[[ -x "$CHROMIUM" ]] || missing+=(chromium fonts-liberation ca-certificates)
command -v curl >/dev/null || missing+=(curl)
for tool in bwrap:bubblewrap mmdebstrap:mmdebstrap umoci:umoci; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: run \`sudo apt-get install -y ${missing[*]}\`" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
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
