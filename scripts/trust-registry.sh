#!/usr/bin/env bash
# Trust the home registry over plain HTTP on the LAN, on this machine, for both things that talk to
# it: the Docker engine (pulls) and the fleet's BuildKit builder (pushes and FROM pulls).
#   sudo bash scripts/trust-registry.sh registry.home.arpa:5000
# - adds HOST:PORT to "insecure-registries" in /etc/docker/daemon.json (DOCKER_DAEMON_JSON),
#   keeping every other setting; restart the engine afterwards (`systemctl restart docker`);
# - records it in $FLEET_CACHE/trusted-registries, which `npm run infra` writes into the
#   builder's buildkitd.toml (`[registry."HOST:PORT"] http = true`) and restarts it.
# Idempotent. A registry with a TLS certificate your machines trust needs none of this.
set -euo pipefail
FLEET_CACHE="${FLEET_CACHE:-$HOME/.cache/fleet}"
DAEMON_JSON="${DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}"
reg=${1:-}
[[ $reg =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?:[0-9]+$ ]] || {
  echo "usage: trust-registry.sh HOST:PORT (like registry.home.arpa:5000); got '${reg}'" >&2
  exit 2
}
mkdir -p "$(dirname "$DAEMON_JSON")" "$FLEET_CACHE"
node -e '
  const fs = require("fs"), [file, reg] = process.argv.slice(1);
  let cfg = {};
  if (fs.existsSync(file)) {
    try { cfg = JSON.parse(fs.readFileSync(file, "utf8") || "{}"); }
    catch (e) { console.error(`${file} is not valid JSON (${e.message}); fix it first`); process.exit(1); }
  }
  const list = new Set(cfg["insecure-registries"] || []);
  if (list.has(reg)) { console.log(`${file}: ${reg} already trusted`); process.exit(0); }
  cfg["insecure-registries"] = [...list, reg];
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2) + "\n");
  console.log(`${file}: ${reg} added to insecure-registries; restart the Docker engine (systemctl restart docker)`);
' "$DAEMON_JSON" "$reg"
touch "$FLEET_CACHE/trusted-registries"
if grep -qxF "$reg" "$FLEET_CACHE/trusted-registries"; then
  echo "$FLEET_CACHE/trusted-registries: $reg already listed"
else
  echo "$reg" >>"$FLEET_CACHE/trusted-registries"
  echo "$FLEET_CACHE/trusted-registries: $reg added; run \`npm run infra\` to restart the builder with it"
fi
