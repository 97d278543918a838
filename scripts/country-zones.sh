#!/usr/bin/env bash
# Writes shared/domain/src/sending_window/country_zones.tsv from the time zone database's zone.tab
# (public domain; Debian's tzdata installs it): one line per ISO 3166 country, its code, a tab and
# its zones, comma-separated, in zone.tab's order. Run again when the database adds or moves a
# zone; the domain's tests check every zone against the database the binaries bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-/usr/share/zoneinfo/zone.tab}"
out=shared/domain/src/sending_window/country_zones.tsv
[[ -r "$src" ]] || { echo "country-zones: $src is missing (apt-get install tzdata)" >&2; exit 1; }
awk -F'\t' '
  /^#/ || NF < 3 { next }
  !($1 in zones) { order[++n] = $1; zones[$1] = $3; next }
  { zones[$1] = zones[$1] "," $3 }
  END { for (i = 1; i <= n; i++) print order[i] "\t" zones[order[i]] }
' "$src" >"$out"
echo "country-zones: $(wc -l <"$out") countries written to $out" >&2
