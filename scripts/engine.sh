#!/usr/bin/env bash
# Private infrastructure instances beside the shared one that scripts/infra.sh starts, so that
# tests and benchmarks can stop, kill and restart what they use without touching the fleet a
# user runs (its engine, registry and builder stay as they are).
#
#   bash scripts/engine.sh up docker NAME        a Docker engine; prints its DOCKER_HOST
#   bash scripts/engine.sh up registry NAME PORT a registry on 127.0.0.1:PORT; prints host:port
#   bash scripts/engine.sh up buildkit NAME      a BuildKit daemon registered as buildx builder
#                                                NAME; prints its address
#   bash scripts/engine.sh down|kill|restart KIND NAME
#                                                stop cleanly (SIGTERM) | SIGKILL | down then up
#   bash scripts/engine.sh poweroff docker NAME  what a power cut does to an engine: SIGKILL to
#                                                dockerd, its containerd, the shims and every
#                                                process of its containers
#   bash scripts/engine.sh status KIND NAME      exit 0 when it answers
#
# A private Docker engine runs with live-restore, as the fleet's engines should: containers keep
# running while the daemon restarts or crashes. Each instance keeps its data under $FLEET_CACHE/instances/KIND-NAME (kept across restarts, as a
# machine's would be) and its sockets and pid file under /run/fleet/KIND-NAME. A private Docker
# engine runs the same dockerd as the shared one, with its own data root, exec root, containerd
# namespace and socket; it adds no iptables rules (published ports go through docker-proxy) and has
# a default bridge of its own (fb-NAME), so it never disturbs the shared engine's networking. Needs `npm run infra`
# first (packages and the compiled BuildKit).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

usage() { echo "usage: engine.sh up|down|kill|restart|status docker|registry|buildkit NAME [PORT]" >&2; exit 2; }
(($# >= 3)) || usage
action=$1 kind=$2 name=$3 port=${4:-}
[[ $name =~ ^[a-z0-9][a-z0-9-]*$ ]] || { echo "engine.sh: NAME must be lower-case letters, digits and dashes; got '$name'" >&2; exit 2; }
data="$FLEET_CACHE/instances/$kind-$name"
run="/run/fleet/$kind-$name"
log="$FLEET_CACHE/log/$kind-$name.log"
pidfile="$run/pid"
mkdir -p "$data" "$run" "$FLEET_CACHE/log"

address() {
  case $kind in
    docker) echo "unix://$run/docker.sock" ;;
    buildkit) echo "unix://$run/buildkitd.sock" ;;
    registry) echo "127.0.0.1:$(cat "$data/port" 2>/dev/null || echo "$port")" ;;
    *) usage ;;
  esac
}

answers() {
  case $kind in
    docker) DOCKER_HOST=$(address) /usr/bin/docker version >/dev/null 2>&1 ;;
    buildkit) "$FLEET_CACHE/bin/buildctl" --addr "$(address)" debug workers >/dev/null 2>&1 ;;
    registry) curl -fs -o /dev/null "http://$(address)/v2/" ;;
  esac
}

# running PID: the process exists and is not a zombie (nothing may reap a daemon whose parent is gone).
running() { [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
alive() { [[ -s $pidfile ]] && running "$(<"$pidfile")"; }

start() {
  if answers; then address; return 0; fi
  alive && stop TERM
  local cmd=()
  case $kind in
    docker)
      # No daemon of this engine runs (checked above): a pid file left by a killed one is stale,
      # and so is its containerd's when that process is gone.
      rm -f "$run/docker.sock" "$run/dockerd.pid"
      cpid="$run/exec/containerd/containerd.pid"
      [[ -s $cpid ]] && ! running "$(<"$cpid")" && rm -f "$cpid"
      # A default bridge of its own: `--bridge none` would make dockerd delete the host's docker0,
      # which the shared engine's default network needs.
      bridge="fb-${name:0:12}"
      if ! ip link show "$bridge" >/dev/null 2>&1; then
        ip link add name "$bridge" type bridge
        ip addr add "10.199.$(($(cksum <<<"$name" | cut -d' ' -f1) % 250 + 1)).1/24" dev "$bridge"
        ip link set "$bridge" up
      fi
      cmd=(/usr/sbin/dockerd --host "$(address)" --data-root "$data/data" --exec-root "$run/exec"
        --pidfile "$run/dockerd.pid" --containerd-namespace "fleet-$name"
        --containerd-plugins-namespace "fleet-$name-plugins" --bridge "$bridge" --iptables=false
        --ip-masq=false --userland-proxy=true --live-restore)
      ;;
    registry)
      [[ $port =~ ^[0-9]+$ ]] || [[ -s $data/port ]] || { echo "engine.sh: a registry needs a PORT" >&2; exit 2; }
      [[ -n $port ]] && echo "$port" >"$data/port"
      bash "$(dirname "${BASH_SOURCE[0]}")/registry-config.sh" "$data/storage" "$(address)" >"$data/config.yml"
      cmd=(/usr/bin/docker-registry serve "$data/config.yml")
      ;;
    buildkit)
      rm -f "$run/buildkitd.sock"
      cat >"$data/buildkitd.toml" <<EOF
root = "$data/root"
[grpc]
  address = ["$(address)"]
[worker.oci]
  enabled = true
  binary = "/usr/sbin/runc"
  snapshotter = "overlayfs"
  networkMode = "host"
  gc = true
[worker.containerd]
  enabled = false
EOF
      cmd=("$FLEET_CACHE/bin/buildkitd" --config "$data/buildkitd.toml")
      mkdir -p "${DOCKER_CONFIG:-$HOME/.docker}/buildx/instances"
      printf '{"Name":"%s","Driver":"remote","Nodes":[{"Name":"%s0","Endpoint":"%s"}],"Dynamic":false}\n' \
        "$name" "$name" "$(address)" >"${DOCKER_CONFIG:-$HOME/.docker}/buildx/instances/$name"
      ;;
    *) usage ;;
  esac
  setsid "${cmd[@]}" >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 240); do
    answers && { address; return 0; }
    alive || break
    sleep 0.25
  done
  tail -n 20 "$log" >&2
  echo "engine.sh: $kind $name did not answer (log: $log)" >&2
  exit 1
}

stop() { # SIGNAL
  alive || { rm -f "$pidfile"; return 0; }
  local pid
  pid=$(<"$pidfile")
  kill "-$1" "$pid" 2>/dev/null || true
  for _ in $(seq 240); do running "$pid" || break; sleep 0.25; done
  running "$pid" && kill -KILL "$pid" 2>/dev/null
  rm -f "$pidfile"
}

# poweroff: every process of the engine and of its containers dies at once, as in a power cut;
# only data on disk is left. The containers' processes are found through their cgroups.
poweroff() {
  [[ $kind == docker ]] || usage
  local ids pids
  ids=$(DOCKER_HOST=$(address) /usr/bin/docker ps -q --no-trunc 2>/dev/null || true)
  pids=$(pgrep -f -- "$run/" || true)
  alive && pids+=" $(pgrep -P "$(<"$pidfile")" || true)"   # docker-proxy, which holds the host ports
  pids+=" $(pgrep -f -- "-namespace fleet-$name " || true)"
  for id in $ids; do pids+=" $(cat /sys/fs/cgroup/pids/docker/"$id"/cgroup.procs 2>/dev/null || true)"; done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  sleep 1
  # /run does not survive a power cut: the engine's sockets, pid files and runtime state go too.
  awk -v run="$run/" 'index($2, run) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
  rm -rf "${run:?}"/* 2>/dev/null || true
}

case $action in
  up) start ;;
  poweroff) poweroff ;;
  down) stop TERM ;;
  # A killed engine's managed containerd dies with it, holding its database lock for a moment: wait
  # before a start, as the engine's service manager does (systemd's RestartSec).
  kill) stop KILL; [[ $kind == docker ]] && sleep 3 ;;
  restart) stop TERM; start ;;
  status) answers ;;
  *) usage ;;
esac
