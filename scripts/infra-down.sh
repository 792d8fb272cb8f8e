#!/usr/bin/env bash
# Stop what scripts/infra.sh started (buildkitd, registry, dockerd), using the pid files
# it wrote in $FLEET_CACHE/run. Data (registry storage, BuildKit cache, images) is kept,
# so a following `npm run infra` is fast again.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"
# shellcheck source=lib/daemon.sh
source "$SCRIPT_DIR/lib/daemon.sh"
RUN_DIR="$FLEET_CACHE/run"

# stop NAME PROGRAM: stops daemon NAME if its pid file names a running PROGRAM.
stop() {
  local f="$RUN_DIR/$1.pid"
  if [[ ! -s $f ]]; then
    echo "[infra-down] $1: not started by infra.sh (no pid file)"
  elif daemon_alive "$f" "$2"; then
    echo "[infra-down] stopping $1 (pid $(<"$f"))"
  else
    echo "[infra-down] $1: not running (stale pid file)"
  fi
  daemon_stop "$f" TERM "$2"
}

stop buildkitd buildkitd
stop registry docker-registry
stop dockerd dockerd   # dockerd stops its containers and its managed containerd itself
rm -f /run/buildkit/buildkitd.sock
echo "[infra-down] done"
