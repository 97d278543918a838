#!/usr/bin/env bash
# Fuzzes the profile unpacker for a bounded time (default 60 s): ./run.sh [seconds] [extra libFuzzer args]
# Needs cargo-fuzz (installed here if missing). cargo-fuzz wants nightly for -Zsanitizer; on a
# stable toolchain RUSTC_BOOTSTRAP=1 unlocks the flag (stable ships the ASan runtime).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi
mkdir -p corpus/unpack
# Seed: one real snapshot (odd first byte: the stored form) and its tar (even first byte).
if [ -z "$(ls -A corpus/unpack)" ]; then
    seed="$(mktemp -d)"
    mkdir -p "$seed/Default/Local Storage/leveldb" "$seed/Default/IndexedDB/x.leveldb"
    printf 'MANIFEST-000001\n' > "$seed/Default/Local Storage/leveldb/CURRENT"
    printf 'log' > "$seed/Default/IndexedDB/x.leveldb/000003.log"
    printf '{}' > "$seed/Local State"
    (cd "$seed" && tar --sort=name --mtime=@0 --owner=0 --group=0 -cf "$OLDPWD/corpus/unpack/tar.bin.tmp" Default "Local State")
    { printf '\x00'; cat corpus/unpack/tar.bin.tmp; } > corpus/unpack/seed-tar
    { printf '\x01'; zstd -q -c corpus/unpack/tar.bin.tmp 2>/dev/null || true; } > corpus/unpack/seed-zst
    rm -rf "$seed" corpus/unpack/tar.bin.tmp
fi
exec cargo fuzz run unpack corpus/unpack -- -max_total_time="$seconds" -rss_limit_mb=2048 "$@"
