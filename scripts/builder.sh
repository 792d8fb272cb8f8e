#!/usr/bin/env bash
# A BuildKit daemon of its own for tests: `bash scripts/builder.sh up NAME` starts buildkitd with
# its own root ($FLEET_CACHE/builders/NAME), socket (/run/fleet-builders/NAME.sock) and config,
# so that its build cache shares nothing with the shared builder; it prints the address.
# `bash scripts/builder.sh down NAME` stops it and deletes its root. The shared buildkitd of
# `npm run infra` is never touched. Uses the buildkitd that `npm run infra` compiled.
set -euo pipefail
FLEET_CACHE="${FLEET_CACHE:-$HOME/.cache/fleet}"
REGISTRY="${FLEET_REGISTRY:-127.0.0.1:5000}"
cmd="${1:-}" name="${2:-}"
[[ $cmd == up || $cmd == down ]] && [[ $name =~ ^[a-z0-9][a-z0-9-]*$ ]] || {
  echo "usage: bash scripts/builder.sh up|down NAME (NAME: lower case letters, digits, -)" >&2
  exit 2
}
BUILDKITD="$FLEET_CACHE/bin/buildkitd" BUILDCTL="$FLEET_CACHE/bin/buildctl"
[[ -x $BUILDKITD && -x $BUILDCTL ]] || { echo "builder.sh: $BUILDKITD not found; run npm run infra first" >&2; exit 1; }
DIR="$FLEET_CACHE/builders/$name"
SOCK="/run/fleet-builders/$name.sock"
ADDR="unix://$SOCK"
PIDFILE="$DIR/buildkitd.pid"

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

if [[ $cmd == down ]]; then
  if running; then
    pid=$(cat "$PIDFILE")
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  # The root holds overlay mounts only while the daemon runs; it is gone now.
  rm -rf "$DIR" "$SOCK"
  exit 0
fi

mkdir -p "$DIR/root" /run/fleet-builders
if ! running; then
  # Same worker settings as the shared builder (scripts/infra.sh), its own root and socket.
  cat >"$DIR/buildkitd.toml" <<TOML
root = "$DIR/root"
[grpc]
  address = ["$ADDR"]
[worker.oci]
  enabled = true
  binary = "/usr/sbin/runc"
  snapshotter = "overlayfs"
  networkMode = "host"
  gc = false
[worker.containerd]
  enabled = false
[registry."$REGISTRY"]
  http = true
  insecure = true
TOML
  rm -f "$SOCK"
  nohup "$BUILDKITD" --config "$DIR/buildkitd.toml" >"$DIR/buildkitd.log" 2>&1 &
  echo $! >"$PIDFILE"
fi
for _ in $(seq 1 120); do
  if "$BUILDCTL" --addr "$ADDR" debug workers >/dev/null 2>&1; then
    echo "$ADDR"
    exit 0
  fi
  running || break
  sleep 0.5
done
tail -n 20 "$DIR/buildkitd.log" >&2
echo "builder.sh: buildkitd $name did not answer on $ADDR" >&2
exit 1
