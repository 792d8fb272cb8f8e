#!/usr/bin/env bash
# The main job on the embedded default: bring the local stack up from nothing.
#   npm run up                 infrastructure, toolchain, then `pulumi up` on the local stack
#   npm run up -- --diff       extra arguments go to `pulumi up`
# Uses a file backend under $FLEET_CACHE/state (no account, no cloud) and an empty passphrase.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
bash scripts/infra.sh
bash scripts/toolchain.sh
pulumi stack select --create local --non-interactive >/dev/null
pulumi up --stack local --yes --non-interactive "$@"
pulumi stack output --stack local services --json
