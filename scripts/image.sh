#!/usr/bin/env bash
# `make image`: the sender's Lambda container image without a Docker daemon. A Debian root
# filesystem from infra/image/packages.txt (mmdebstrap), the sender binary as
# /var/runtime/bootstrap, packed as an OCI image layout by umoci; prints its size.
#
#   IMAGE_BINARY  the sender binary to ship (default: build it with the release profile,
#                 no fail points)
#   IMAGE_DIR     where the layout goes (default .local/image; the image is oci:sender in it)
#
# Push it with skopeo: skopeo copy oci:.local/image/oci:sender docker://<registry>/wacamp-sender:<tag>
set -euo pipefail
cd "$(dirname "$0")/.."

out="${IMAGE_DIR:-.local/image}"
suite=bookworm
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security

for tool in mmdebstrap umoci; do
  if ! command -v "$tool" >/dev/null; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "image: $tool is missing: run \`sudo apt-get install -y mmdebstrap umoci\`" >&2
      exit 1
    fi
    echo "image: installing mmdebstrap and umoci" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap umoci >/dev/null
  fi
done
if [[ $(id -u) -ne 0 ]]; then
  echo "image: run as root (mmdebstrap's root mode and umoci keep the files' owners)" >&2
  exit 1
fi

binary="${IMAGE_BINARY:-}"
if [[ -z "$binary" ]]; then
  cargo build --release -p sender
  binary=target/release/sender
fi
[[ -x "$binary" ]] || { echo "image: $binary is not an executable sender binary" >&2; exit 1; }

packages=$(grep -Ev '^\s*(#|$)' infra/image/packages.txt | paste -sd, -)
rm -rf "$out"
mkdir -p "$out"
umoci init --layout "$out/oci"
umoci new --image "$out/oci:sender"
umoci unpack --image "$out/oci:sender" "$out/bundle" >/dev/null
rmdir "$out/bundle/rootfs"
# The root filesystem from `$1` (comma-separated packages).
rootfs() {
  rm -rf "$out/bundle/rootfs"
  mmdebstrap --variant=essential --mode=root --include="$1" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    "$suite" "$out/bundle/rootfs" "deb $mirror $suite main" "deb $security $suite-security main" \
    >"$out/mmdebstrap.log" 2>&1
}
echo "image: building the root filesystem ($suite: $packages)" >&2
if ! rootfs "$packages"; then
  # Debian's mirrors keep only the newest version of a package, and Chromium's security updates
  # come every few weeks: a pin the mirror no longer has is built with the mirror's version
  # instead (the image's own test still checks it sends), and named so the pin gets updated.
  if grep -q "was not found" "$out/mmdebstrap.log"; then
    gone=$(grep -o "Version '[^']*' for '[^']*' was not found" "$out/mmdebstrap.log" | sort -u | paste -sd';' -)
    echo "image: WARNING: pins the mirror no longer has ($gone); building with the mirror's versions: update infra/image/packages.txt" >&2
    packages=$(printf '%s' "$packages" | sed -E 's/=[^,]+//g')
    if rootfs "$packages"; then
      echo "image: built unpinned; the versions now in the image:" >&2
      chroot "$out/bundle/rootfs" dpkg-query -W -f='  ${Package}=${Version}\n' \
        $(printf '%s' "$packages" | tr ',' ' ') >&2 || true
    else
      echo "image: mmdebstrap failed unpinned too; its log ($out/mmdebstrap.log) ends:" >&2
      tail -n 20 "$out/mmdebstrap.log" >&2
      exit 1
    fi
  else
    echo "image: mmdebstrap failed; its log ($out/mmdebstrap.log) ends:" >&2
    tail -n 20 "$out/mmdebstrap.log" >&2
    exit 1
  fi
fi
install -D -m 0755 "$binary" "$out/bundle/rootfs/var/runtime/bootstrap"
umoci repack --image "$out/oci:sender" "$out/bundle"
# The environment Chromium needs on Lambda (kept equal to infra/sender.Dockerfile's ENV).
umoci config --image "$out/oci:sender" --os linux --architecture amd64 \
  --config.entrypoint /var/runtime/bootstrap --config.workingdir /tmp \
  --config.env WA_CHROMIUM_PATH=/usr/lib/chromium/chromium --config.env HOME=/tmp --config.env TMPDIR=/tmp
umoci gc --layout "$out/oci"
rm -rf "$out/bundle"

compressed=$(du -sb "$out/oci/blobs" | cut -f1)
echo "image: $out/oci:sender is $((compressed / 1000000)) MB compressed (binary $(($(stat -c %s "$binary") / 1000000)) MB: $binary)" >&2
