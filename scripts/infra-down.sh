#!/usr/bin/env bash
# Stop what scripts/infra.sh started (buildkitd, registry, dockerd), using the pid files
# it wrote in $FLEET_CACHE/run. Data (registry storage, BuildKit cache, images) is kept,
# so a following `npm run infra` is fast again.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"
RUN_DIR="$FLEET_CACHE/run"

stop() {
  local name=$1 exe_suffix=$2 f="$RUN_DIR/$1.pid" pid exe i
  if [[ ! -s $f ]]; then
    echo "[infra-down] $name: not started by infra.sh (no pid file)"
    return 0
  fi
  pid=$(<"$f")
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  if [[ -z $exe || $exe != */"$exe_suffix" ]]; then
    echo "[infra-down] $name: not running (stale pid file)"
    rm -f "$f"
    return 0
  fi
  echo "[infra-down] stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 120; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "[infra-down] $name did not stop within 30 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop buildkitd buildkitd
stop registry docker-registry
stop dockerd dockerd   # dockerd stops its containers and its managed containerd itself
rm -f /run/buildkit/buildkitd.sock
echo "[infra-down] done"
