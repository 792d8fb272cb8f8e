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
# namespace and socket; it adds no iptables rules of its own making (published ports go through
# docker-proxy) and has a default bridge of its own (fb-NAME), so it never disturbs the shared
# engine's networking. Its networks take their subnets from an address pool of its own (10.N.0.0/16,
# kept in DATA/pool), and one FORWARD rule lets traffic between those subnets through (the shared
# engine sets the chain's policy to DROP, which would cut its containers off from each other). Needs
# `npm run infra` first (packages and the compiled BuildKit).
#
# A machine of its own, for the home rehearsal:
#   FLEET_RUN_DIR=DIR            sockets and pid files under DIR instead of /run/fleet
#   FLEET_ENGINE_GPU=CSV         (docker, first start) stand-ins for the NVIDIA Container Toolkit: a
#                                runtime `nvidia` (runc itself) and the runtime hook on dockerd's
#                                PATH, which registers the engine's GPU driver (device requests,
#                                NVIDIA_VISIBLE_DEVICES) as the real toolkit does; the hook puts an
#                                nvidia-smi that prints CSV (a recorded card) into GPU containers.
#                                Nothing is mounted and nothing computes on a GPU. Kept for restarts.
#   DATA/daemon.json             (docker) when present, the engine's configuration file, as
#                                /etc/docker/daemon.json is a machine's (scripts/home-setup.sh
#                                writes insecure-registries there through DOCKER_DAEMON_JSON)
#   $FLEET_CACHE/trusted-registries
#                                (buildkit) each registry listed is spoken to over plain HTTP, as
#                                scripts/infra.sh does for the shared builder
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"
# shellcheck source=lib/daemon.sh
source "$SCRIPT_DIR/lib/daemon.sh"

usage() { echo "usage: engine.sh up|down|kill|restart|status docker|registry|buildkit NAME [PORT]" >&2; exit 2; }
(($# >= 3)) || usage
action=$1 kind=$2 name=$3 port=${4:-}
[[ $name =~ ^[a-z0-9][a-z0-9-]*$ ]] || { echo "engine.sh: NAME must be lower-case letters, digits and dashes; got '$name'" >&2; exit 2; }
data="$FLEET_CACHE/instances/$kind-$name"
run="${FLEET_RUN_DIR:-/run/fleet}/$kind-$name"
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

alive() { daemon_alive "$pidfile"; }

# The engine's address pool, 10.N.0.0/16: the one it had (its networks keep their subnets across
# restarts), else the lowest N that no other private engine of this machine has.
address_pool() {
  if [[ ! -s $data/pool ]]; then
    local taken n
    taken=$(cat "$FLEET_CACHE"/instances/docker-*/pool 2>/dev/null || true)
    for n in $(seq 1 98); do
      grep -qx "10\.$n\.0\.0/16" <<<"$taken" || { echo "10.$n.0.0/16" >"$data/pool"; break; }
    done
  fi
  [[ -s $data/pool ]] || { echo "engine.sh: no free address pool (10.1-98.0.0/16) for docker $name" >&2; exit 1; }
  cat "$data/pool"
}

# Lets traffic between the subnets of POOL through the host's FORWARD chain (once).
forward_within() {
  command -v iptables >/dev/null || return 0
  local rule=(FORWARD -s "$1" -d "$1" -m comment --comment "fleet engine $name" -j ACCEPT)
  iptables -C "${rule[@]}" 2>/dev/null || iptables -I "${rule[@]}"
}

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
      [[ -s $cpid ]] && ! daemon_running "$(<"$cpid")" && rm -f "$cpid"
      # A default bridge of its own: `--bridge none` would make dockerd delete the host's docker0,
      # which the shared engine's default network needs.
      bridge="fb-${name:0:12}"
      if ! ip link show "$bridge" >/dev/null 2>&1; then
        ip link add name "$bridge" type bridge
        ip addr add "10.199.$(($(cksum <<<"$name" | cut -d' ' -f1) % 250 + 1)).1/24" dev "$bridge"
        ip link set "$bridge" up
      fi
      pool=$(address_pool)
      forward_within "$pool"
      cmd=(/usr/sbin/dockerd --host "$(address)" --data-root "$data/data" --exec-root "$run/exec"
        --pidfile "$run/dockerd.pid" --containerd-namespace "fleet-$name"
        --containerd-plugins-namespace "fleet-$name-plugins" --bridge "$bridge" --iptables=false
        --ip-masq=false --userland-proxy=true --default-address-pool "base=$pool,size=24")
      # With a daemon.json of its own the engine is configured as a machine's is (live-restore is
      # one of its settings there: dockerd refuses a setting given both as a flag and in the file).
      if [[ -f $data/daemon.json ]]; then cmd+=(--config-file "$data/daemon.json"); else cmd+=(--live-restore); fi
      if [[ -n ${FLEET_ENGINE_GPU:-} ]]; then
        [[ -s $FLEET_ENGINE_GPU ]] || { echo "engine.sh: FLEET_ENGINE_GPU must name an nvidia-smi CSV; got '$FLEET_ENGINE_GPU'" >&2; exit 2; }
        mkdir -p "$data/gpu"
        cp "$SCRIPT_DIR/../test/fixtures/gpu-standin/"nvidia-container-runt* "$data/gpu/"
        cp "$FLEET_ENGINE_GPU" "$data/gpu/gpu.csv"
      fi
      # dockerd registers its NVIDIA driver only when the hook is on its PATH at start.
      [[ -x $data/gpu/nvidia-container-runtime-hook ]] && cmd=(env "PATH=$data/gpu:$PATH" "${cmd[@]}" --add-runtime "nvidia=$data/gpu/nvidia-container-runtime")
      ;;
    registry)
      [[ $port =~ ^[0-9]+$ ]] || [[ -s $data/port ]] || { echo "engine.sh: a registry needs a PORT" >&2; exit 2; }
      [[ -n $port ]] && echo "$port" >"$data/port"
      bash "$(dirname "${BASH_SOURCE[0]}")/registry-config.sh" "$data/storage" "$(address)" >"$data/config.yml"
      cmd=(/usr/bin/docker-registry serve "$data/config.yml")
      ;;
    buildkit)
      rm -f "$run/buildkitd.sock"
      mapfile -t trusted < <(trusted_registries)
      buildkitd_toml "$data/root" "$(address)" "${trusted[@]}" >"$data/buildkitd.toml"
      cmd=("$FLEET_CACHE/bin/buildkitd" --config "$data/buildkitd.toml")
      buildx_builder "$name" "$(address)" || true
      ;;
    *) usage ;;
  esac
  daemon_start "$pidfile" "$log" "${cmd[@]}"
  daemon_wait 60 "$pidfile" answers && { address; return 0; }
  tail -n 20 "$log" >&2
  echo "engine.sh: $kind $name did not answer (log: $log)" >&2
  exit 1
}

stop() { daemon_stop "$pidfile" "$1"; }

# poweroff: every process of the engine and of its containers dies at once, as in a power cut;
# only data on disk is left. The containers' processes are found through their cgroups.
poweroff() {
  [[ $kind == docker ]] || usage
  local ids pids
  ids=$(DOCKER_HOST=$(address) /usr/bin/docker ps -q --no-trunc 2>/dev/null || true)
  pids=$(pgrep -f -- "$run/" || true)
  alive && pids+=" $(pgrep -P "$(<"$pidfile")" || true)"   # docker-proxy, which holds the host ports
  pids+=" $(pgrep -f -- "-namespace fleet-$name " || true)"
  # Every process whose cgroup path names one of the containers (cgroup v1 and v2 alike).
  # A process that exits meanwhile makes grep fail (exit 2) on its vanished file: not an error here.
  for id in $ids; do pids+=" $({ grep -l -- "$id" /proc/[0-9]*/cgroup 2>/dev/null || true; } | cut -d/ -f3 | tr '\n' ' ')"; done
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
