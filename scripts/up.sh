#!/usr/bin/env bash
# The main job on the embedded default: bring the local stack up from nothing.
#   npm run up                       infrastructure, toolchain, then `pulumi up` on the local stack
#   npm run up -- --diff             extra arguments go to `pulumi up`
#   FLEET_STACK=name npm run up      another stack of this project (default: local)
# Uses a file backend under $FLEET_CACHE/state (no account, no cloud) and an empty passphrase.
# Before the update, `fleet recover` cleans up after an earlier update that was killed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
stack=${FLEET_STACK:-local}
bash scripts/infra.sh
bash scripts/toolchain.sh
# syft and Trivy, which the deployment runs for every new digest, and the database the gate scans
# with (Trivy's own, or the advisories in test/fixtures/supply where it cannot be downloaded):
# installed once and recorded in $FLEET_CACHE/supply-tools.env, which every update reads.
bash scripts/supply-tools.sh >/dev/null
# The project's TypeScript, transpiled once for every command after (load.js; npm ci does it too).
node load.js --warm
pulumi stack select --create "$stack" --non-interactive >/dev/null
npm run --silent fleet -- recover --stack "$stack"
# --yes answers the preview's question before anyone reads it: skip that second program run.
pulumi up --stack "$stack" --yes --skip-preview --non-interactive "$@"
pulumi stack output --stack "$stack" services --json
