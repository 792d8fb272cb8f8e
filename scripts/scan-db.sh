#!/usr/bin/env bash
# Which vulnerability database the gate scans with, as scripts/supply-tools.sh chose and recorded
# it: empty for Trivy's own database, else a directory holding one built from the advisories in
# test/fixtures/supply (where Trivy's cannot be downloaded).
#   FLEET_SCAN_DB_DIR=$(bash scripts/scan-db.sh)
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$SCRIPT_DIR/supply-tools.sh" | sed -n 's/^SCAN_DB=//p'
