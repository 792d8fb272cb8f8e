#!/usr/bin/env bash
# Which vulnerability database the gate scans with, printed as the FLEET_SCAN_DB_DIR to use: empty
# for Trivy's own database (downloaded, or refreshed, on first use), or, where that cannot be
# downloaded (a machine without a route to its source), FALLBACK_DIR holding a database built from
# the advisories in test/fixtures/supply, which it says on stderr.
#   FLEET_SCAN_DB_DIR=$(bash scripts/scan-db.sh FALLBACK_DIR)
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"
(($# == 1)) || { echo "usage: scan-db.sh FALLBACK_DIR" >&2; exit 2; }
eval "$(bash "$SCRIPT_DIR/supply-tools.sh")"
mkdir -p "$FLEET_CACHE/log"
if timeout 120 "$TRIVY" image --download-db-only --cache-dir "$FLEET_CACHE/trivy" >"$FLEET_CACHE/log/trivy-db-download.log" 2>&1; then
  echo ""
else
  echo "fleet: Trivy's vulnerability database cannot be downloaded here (see $FLEET_CACHE/log/trivy-db-download.log); the gate scans with the advisories in test/fixtures/supply" >&2
  bash "$SCRIPT_DIR/scan-test-db.sh" "$1"
fi
