#!/usr/bin/env bash
# Builds a Trivy vulnerability database (schema 2: trivy.db + metadata.json) from a vuln-list tree
# of advisories, with trivy-db's own `build` command, into DIR/db/, the layout Trivy reads from its
# --cache-dir. The tests use it because Trivy's public database cannot be downloaded here.
#   bash scripts/scan-test-db.sh DIR [VULN_LIST]
# VULN_LIST defaults to test/fixtures/supply/vuln-list (GitHub advisories in OSV form).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"
(($# >= 1)) || { echo "usage: scan-test-db.sh DIR [VULN_LIST]" >&2; exit 2; }
out=$1
list=${2:-$SCRIPT_DIR/../test/fixtures/supply/vuln-list}

# The trivy-db version that Trivy 0.74.0's go.mod requires: same schema, same bucket layout.
TRIVY_DB_VERSION=v0.0.0-20260813095258-0e0340a01b57
builder=$(bash "$SCRIPT_DIR/go-tool.sh" trivy-db github.com/aquasecurity/trivy-db "$TRIVY_DB_VERSION" ./cmd/trivy-db)

# Its GHSA source lists Go's standard packages at start-up (go list std), so go must be on PATH.
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
rm -rf "$out/db" && mkdir -p "$out/db"
# The GHSA source also reads the CocoaPods spec tree that a vuln-list checkout has beside it; an
# empty one is enough (git keeps no empty folder, so the tree is copied and it is added).
tree=$(mktemp -d) && trap 'rm -rf "$tree"' EXIT
cp -r "$list/." "$tree/" && mkdir -p "$tree/cocoapods-specs/Specs"
"$builder" build --cache-dir "$tree" --output-dir "$out/db" --only-update ghsa --update-interval 8760h >&2
[[ -s $out/db/trivy.db && -s $out/db/metadata.json ]] || { echo "scan-test-db.sh: no database written to $out/db" >&2; exit 1; }
echo "$out"
