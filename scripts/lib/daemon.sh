# shellcheck shell=bash
# The one way fleet's scripts start, watch and stop the daemons they run themselves (dockerd, the
# registry, buildkitd), and the one writer of BuildKit's configuration and of the buildx builder
# entry that names it. Sourced by scripts/infra.sh, infra-down.sh, engine.sh and home-setup.sh;
# the bench's builders are engine.sh's. A daemon is a process in a session of its own, its pid in
# a pid file, its output appended to a log.

# The BuildKit that fleet compiles where it cannot be downloaded, and where its module lives.
BUILDKIT_VERSION="${BUILDKIT_VERSION:-v0.34.2}"
BUILDKIT_MODULE="github.com/moby/buildkit"

# daemon_running PID: the process exists and is not a zombie (nothing may reap a daemon whose
# parent is gone).
daemon_running() {
  [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

# daemon_alive PIDFILE [PROGRAM]: the pid file names a running process, and (given PROGRAM) one
# whose executable is PROGRAM: a pid recycled after a restart of the machine is not the daemon.
daemon_alive() {
  local pid exe
  [[ -s $1 ]] || return 1
  pid=$(<"$1")
  daemon_running "$pid" || return 1
  [[ -z ${2:-} ]] && return 0
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ $exe == */"$2" ]]
}

# daemon_start PIDFILE LOG COMMAND...: starts COMMAND detached (a session of its own, its output
# appended to LOG) and records its pid.
daemon_start() {
  local pidfile=$1 log=$2
  shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$log")"
  setsid "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# daemon_wait SECONDS PIDFILE CHECK...: polls CHECK every quarter second until it succeeds (0), the
# daemon of PIDFILE has died (1) or SECONDS have passed (1). An empty PIDFILE waits the time out.
daemon_wait() {
  local seconds=$1 pidfile=$2 i
  shift 2
  for ((i = 0; i < seconds * 4; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    [[ -n $pidfile ]] && ! daemon_alive "$pidfile" && return 1
    sleep 0.25
  done
  return 1
}

# daemon_stop PIDFILE [SIGNAL] [PROGRAM]: sends SIGNAL (TERM) to the daemon, waits up to 60 s for it
# to go, then kills it; removes the pid file. A pid file naming no running PROGRAM is only removed.
daemon_stop() {
  local pidfile=$1 signal=${2:-TERM} pid i
  if daemon_alive "$pidfile" "${3:-}"; then
    pid=$(<"$pidfile")
    kill "-$signal" "$pid" 2>/dev/null || true
    for ((i = 0; i < 240; i++)); do daemon_running "$pid" || break; sleep 0.25; done
    daemon_running "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}

# buildkitd_toml ROOT ADDRESS REGISTRY...: BuildKit's configuration, on stdout: its cache under
# ROOT, its socket at ADDRESS, the OCI worker on the host network (RUN steps reach the package
# mirrors and 127.0.0.1 without CNI), garbage collection within fixed limits, and each REGISTRY
# spoken to over plain HTTP.
buildkitd_toml() {
  local root=$1 address=$2 r
  shift 2
  cat <<TOML
root = "$root"

[log]
  format = "text"

[grpc]
  address = ["$address"]

[worker.oci]
  enabled = true
  binary = "runc"
  snapshotter = "overlayfs"
  networkMode = "host"
  gc = true
  reservedSpace = "2GB"
  maxUsedSpace = "30GB"
  minFreeSpace = "10GB"

[worker.containerd]
  enabled = false
TOML
  for r in "$@"; do
    [[ -n $r ]] && printf '\n[registry."%s"]\n  http = true\n  insecure = true\n' "$r"
  done
  return 0
}

# trusted_registries: the registries a machine's builders speak plain HTTP to: the local one
# (127.0.0.1:5000) and each home registry scripts/home-setup.sh recorded, one a line.
trusted_registries() {
  printf '%s\n' "${REGISTRY:-127.0.0.1:5000}"
  [[ -f $FLEET_CACHE/trusted-registries ]] && grep -vxF "${REGISTRY:-127.0.0.1:5000}" "$FLEET_CACHE/trusted-registries" | grep .
  return 0
}

# buildx_builder NAME ADDRESS [DOCKER_CONFIG_DIR]: registers the remote BuildKit at ADDRESS as
# buildx builder NAME (the format of buildx's store.NodeGroup), which @pulumi/docker-build finds by
# name. Returns 0 when the entry changed, 1 when it was already so.
buildx_builder() {
  local dir="${3:-${DOCKER_CONFIG:-$HOME/.docker}}/buildx/instances" entry
  entry=$(printf '{"Name":"%s","Driver":"remote","Nodes":[{"Name":"%s0","Endpoint":"%s"}],"Dynamic":false}' "$1" "$1" "$2")
  [[ -f $dir/$1 && $(<"$dir/$1") == "$entry" ]] && return 1
  mkdir -p "$dir"
  printf '%s\n' "$entry" >"$dir/$1"
}

# buildkit_binaries: buildkitd and buildctl in $FLEET_CACHE/bin, compiled once from BuildKit's Go
# module by scripts/go-tool.sh.
buildkit_binaries() {
  local lib_dir tool ldflags
  lib_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  ldflags="-s -w -X $BUILDKIT_MODULE/version.Version=$BUILDKIT_VERSION -X $BUILDKIT_MODULE/version.Package=$BUILDKIT_MODULE"
  mkdir -p "$FLEET_CACHE/bin"
  for tool in buildkitd buildctl; do
    ln -sfn "$(bash "$lib_dir/../go-tool.sh" "$tool" "$BUILDKIT_MODULE" "$BUILDKIT_VERSION" "./cmd/$tool" "$ldflags")" "$FLEET_CACHE/bin/$tool" || return 1
  done
}
