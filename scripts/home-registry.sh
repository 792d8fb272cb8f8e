#!/usr/bin/env bash
# Runs the home registry on mainpc: Debian's docker-registry, plain HTTP on the LAN, refusing
# deletes (every digest a stack ran stays pullable for rollback). Then, on each machine,
# `scripts/home-setup.sh HOST:PORT` lets its engine and builder use it.
#   sudo bash scripts/home-registry.sh 0.0.0.0:5000
# Writes FLEET_REGISTRY_CONFIG (default /etc/docker/registry/config.yml, the Debian service's) with its
# storage in FLEET_REGISTRY_STORAGE (default /var/lib/docker-registry), then restarts the docker-registry
# service under systemd, or, without systemd, starts the registry in the background itself (pid
# file beside the config). Idempotent; prints the address it answers on.
set -euo pipefail
# shellcheck source=lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
addr=${1:-0.0.0.0:5000}
[[ $addr =~ ^[0-9.]+:[0-9]+$ ]] || { echo "usage: home-registry.sh ADDRESS:PORT (like 0.0.0.0:5000); got '$addr'" >&2; exit 2; }
config=${FLEET_REGISTRY_CONFIG:-/etc/docker/registry/config.yml}
storage=${FLEET_REGISTRY_STORAGE:-/var/lib/docker-registry}
if ! command -v docker-registry >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
fi
mkdir -p "$(dirname "$config")" "$storage"
bash "$(dirname "${BASH_SOURCE[0]}")/registry-config.sh" "$storage" "$addr" >"$config"
probe=${addr/0.0.0.0/127.0.0.1}
pidfile=
if [[ -d /run/systemd/system && -z ${FLEET_NO_SYSTEMD:-} ]]; then
  systemctl enable docker-registry >/dev/null 2>&1 || true
  systemctl restart docker-registry
else
  pidfile="$(dirname "$config")/registry.pid"
  daemon_stop "$pidfile" TERM docker-registry
  daemon_start "$pidfile" "$(dirname "$config")/registry.log" docker-registry serve "$config"
fi
if daemon_wait 10 "$pidfile" curl -fs -o /dev/null "http://$probe/v2/"; then
  echo "home registry answering on http://$probe (config $config, storage $storage)"
  exit 0
fi
echo "home-registry.sh: the registry did not answer on http://$probe/v2/" >&2
exit 1
