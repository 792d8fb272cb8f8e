#!/usr/bin/env bash
# Bring up the local infrastructure the "local" stack needs, idempotently:
#   1. Docker engine (Debian docker.io, dockerd started in the background)
#   2. A plain HTTP registry on 127.0.0.1:5000 (Debian docker-registry) + skopeo, refusing deletes
#   3. BuildKit (buildkitd/buildctl compiled from the Go module, cached by version),
#      registered as the buildx "remote" builder named "fleet" for @pulumi/docker-build
#   4. The base image 127.0.0.1:5000/fleet/debian-bookworm:base (debootstrap), pinned
#      by registry digest in .fleet/base-image.ref (relative to the current directory)
#
# Run from the repo root as `npm run infra`. A second run only checks and prints the summary.
# Set FLEET_INFRA_CHECK=1 to also run a BuildKit smoke build (RUN step with network).
# Everything started here is stopped again by scripts/infra-down.sh (pid files in $FLEET_CACHE/run).
#
# Notes for the Pulumi program (@pulumi/docker-build 0.0.22, builder { name: "fleet" }):
#  - buildkitd runs on the host, so it reaches the registry at 127.0.0.1:5000 directly
#    (plain HTTP, allowed by buildkitd.toml); RUN steps use the host network (no CNI).
#  - Use ONE export per Image: `push: true` without `exports`, or `push: false` with a
#    single `exports: [{ registry: {...} }]`. docker-build 0.0.22 validates in Check()
#    before it has asked the builder for its BuildKit version, so push + exports fails
#    with "multiple exports require a v0.13 buildkit daemon or newer" even on v0.34.
#  - No `# syntax=` lines in Dockerfiles: the frontend image cannot be pulled here.
#  - dockerd (20.10) treats 127.0.0.0/8 registries as insecure by default, so
#    containers can run images by 127.0.0.1:5000/...@sha256: reference. That engine
#    setting is what every fleet client follows for plain HTTP (registry/trust.ts);
#    buildkitd reads only its own buildkitd.toml, written below with the same registries.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"
# shellcheck source=lib/daemon.sh
source "$SCRIPT_DIR/lib/daemon.sh"

BUILDKIT_ADDR="unix:///run/buildkit/buildkitd.sock"
BUILDER_NAME="fleet"
REGISTRY="127.0.0.1:5000"
BASE_REPO="$REGISTRY/fleet/debian-bookworm"
BASE_TAG="base"
BASE_REF_FILE=".fleet/base-image.ref"
DOCKER_CFG_DIR="${DOCKER_CONFIG:-$HOME/.docker}"

RUN_DIR="$FLEET_CACHE/run"
LOG_DIR="$FLEET_CACHE/log"
mkdir -p "$FLEET_CACHE/bin" "$RUN_DIR" "$LOG_DIR" "$FLEET_CACHE/toolchain"

T0=$SECONDS
say()  { printf '[infra %3ss] %s\n' "$((SECONDS - T0))" "$*"; }
die()  { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  export DEBIAN_FRONTEND=noninteractive
  if ((APT_UPDATED == 0)); then
    say "apt-get update"
    apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install ${missing[*]}"
  # Keep package maintainer scripts from starting services (dockerd, the registry
  # on :5000 with Debian's default config): this script starts them itself.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    own_policy=1
  fi
  local rc=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$LOG_DIR/apt-install.log" 2>&1 || rc=$?
  ((own_policy)) && rm -f "$policy"
  ((rc == 0)) || { tail -n 30 "$LOG_DIR/apt-install.log" >&2; die "apt-get install ${missing[*]} failed"; }
}

# pid_alive NAME: the daemon NAME this script started runs (its pid file in $RUN_DIR).
pid_alive() { daemon_alive "$RUN_DIR/$1.pid" "$(program_of "$1")"; }
program_of() { case $1 in registry) echo docker-registry ;; *) echo "$1" ;; esac; }

# start_bg NAME LOGFILE CMD...: starts daemon NAME detached, its pid in $RUN_DIR/NAME.pid.
start_bg() { local name=$1; shift; daemon_start "$RUN_DIR/$name.pid" "$@"; }

# wait_for NAME TIMEOUT LOGFILE CMD...: polls CMD until it succeeds, or stops the script with the
# log's last lines when NAME died or TIMEOUT seconds passed.
wait_for() {
  local name=$1 timeout=$2 log=$3
  shift 3
  daemon_wait "$timeout" "" "$@" && return 0
  echo "---- last lines of $log ----" >&2
  tail -n 40 "$log" >&2 || true
  die "$name not ready after ${timeout}s"
}

# write_if_changed FILE : write stdin to FILE only when the content differs; returns 0 if changed
write_if_changed() {
  local file=$1 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [[ -f $file ]] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  mkdir -p "$(dirname "$file")"
  mv "$tmp" "$file"
  chmod 644 "$file"
  return 0
}

# ---------------------------------------------------------------------------
# 1. Docker engine
# ---------------------------------------------------------------------------
say "== Docker engine"
apt_install docker.io iptables ca-certificates curl
# Debian's docker.io is 20.10 (API 1.41). /usr/local/bin/docker may be a newer
# client (28.x, API 1.50, no buildx plugin) that comes first on PATH. We put the
# matching Debian client first on PATH via $FLEET_CACHE/bin (env.sh prepends it),
# so `docker` is always the client that belongs to the engine.
ln -sfn /usr/bin/docker "$FLEET_CACHE/bin/docker"
hash -r

if docker info >/dev/null 2>&1; then
  say "dockerd already running"
else
  if [[ -S /var/run/docker.sock ]] && ! pid_alive dockerd; then
    say "removing stale docker socket"
    rm -f /var/run/docker.sock
  fi
  if ! pid_alive dockerd; then
    say "starting dockerd (log: $LOG_DIR/dockerd.log)"
    # live-restore: the containers keep running while the daemon restarts or crashes.
    start_bg dockerd "$LOG_DIR/dockerd.log" /usr/sbin/dockerd --host unix:///var/run/docker.sock --live-restore
  fi
  wait_for dockerd 60 "$LOG_DIR/dockerd.log" docker info
  say "dockerd ready"
fi
ENGINE_VERSION=$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')

# Check that the other docker clients on PATH (e.g. /usr/local/bin/docker 28.x) also talk
# to this engine; they negotiate the API version down, DOCKER_API_VERSION=1.41 is the fallback.
mapfile -t other_clients < <(type -ap docker | xargs -r readlink -f | awk '!seen[$0]++')
for cli in "${other_clients[@]}"; do
  [[ $cli == /usr/bin/docker ]] && continue
  if "$cli" version >/dev/null 2>&1; then
    say "note: $cli ($("$cli" version --format '{{.Client.Version}}' 2>/dev/null)) also works with engine $ENGINE_VERSION"
  elif DOCKER_API_VERSION=1.41 "$cli" version >/dev/null 2>&1; then
    say "note: $cli needs DOCKER_API_VERSION=1.41 with this engine; 'docker' from \$FLEET_CACHE/bin is the Debian client"
  else
    say "note: $cli does not work with engine $ENGINE_VERSION; use 'docker' from \$FLEET_CACHE/bin (source scripts/env.sh)"
  fi
done

# ---------------------------------------------------------------------------
# 2. Registry on 127.0.0.1:5000
# ---------------------------------------------------------------------------
say "== Registry $REGISTRY"
apt_install docker-registry skopeo
REG_CONF="$FLEET_CACHE/registry-config.yml"
mkdir -p "$FLEET_CACHE/registry"
reg_conf_changed=0
if bash "$SCRIPT_DIR/registry-config.sh" "$FLEET_CACHE/registry" "$REGISTRY" | write_if_changed "$REG_CONF"; then
  reg_conf_changed=1
fi

# stop_if_config_changed NAME CHANGED: stops NAME (a daemon this script started) when its
# config file just changed, so that the start below picks the new config up.
stop_if_config_changed() {
  local name=$1 changed=$2
  { ((changed)) && pid_alive "$name"; } || return 0
  say "$name config changed: restarting $name"
  daemon_stop "$RUN_DIR/$name.pid" TERM "$(program_of "$name")"
}

registry_up() { curl -fs -o /dev/null "http://$REGISTRY/v2/"; }
stop_if_config_changed registry "$reg_conf_changed"
if registry_up; then
  say "registry already answering on http://$REGISTRY/v2/"
else
  pid_alive registry || {
    say "starting docker-registry (log: $LOG_DIR/registry.log)"
    start_bg registry "$LOG_DIR/registry.log" /usr/bin/docker-registry serve "$REG_CONF"
  }
  wait_for registry 30 "$LOG_DIR/registry.log" registry_up
  say "registry ready"
fi

# ---------------------------------------------------------------------------
# 3. BuildKit (compiled from the Go module, cached by version)
# ---------------------------------------------------------------------------
say "== BuildKit $BUILDKIT_VERSION"
apt_install runc git
if [[ -x $FLEET_CACHE/bin/buildkitd && -x $FLEET_CACHE/bin/buildctl ]] &&
  "$FLEET_CACHE/bin/buildkitd" --version 2>/dev/null | grep -q " $BUILDKIT_VERSION "; then
  say "buildkit binaries cached ($(readlink -f "$FLEET_CACHE/bin/buildkitd"))"
else
  say "compiling buildkitd + buildctl $BUILDKIT_VERSION (a few minutes, log: $LOG_DIR/build-buildkitd-$BUILDKIT_VERSION.log)"
  buildkit_binaries || die "compiling buildkit failed"
fi
"$FLEET_CACHE/bin/buildkitd" --version | grep -q " $BUILDKIT_VERSION" || die "buildkitd does not report version $BUILDKIT_VERSION"

BK_CONF="$FLEET_CACHE/buildkit/buildkitd.toml"
BK_ROOT="$FLEET_CACHE/buildkit/root"
mkdir -p "$BK_ROOT" /run/buildkit
bk_conf_changed=0
# The local registry and the home registries scripts/home-setup.sh recorded; with none of the
# latter, the file is byte for byte what it was, so a running buildkitd is not restarted for nothing.
mapfile -t trusted < <(trusted_registries)
if buildkitd_toml "$BK_ROOT" "$BUILDKIT_ADDR" "${trusted[@]}" | write_if_changed "$BK_CONF"
then
  bk_conf_changed=1
fi

bk_up() { "$FLEET_CACHE/bin/buildctl" --addr "$BUILDKIT_ADDR" debug workers >/dev/null 2>&1; }
stop_if_config_changed buildkitd "$bk_conf_changed"
if bk_up; then
  say "buildkitd already running on $BUILDKIT_ADDR"
else
  if ! pid_alive buildkitd; then
    rm -f /run/buildkit/buildkitd.sock
    say "starting buildkitd (log: $LOG_DIR/buildkitd.log)"
    start_bg buildkitd "$LOG_DIR/buildkitd.log" "$FLEET_CACHE/bin/buildkitd" --config "$BK_CONF"
  fi
  wait_for buildkitd 60 "$LOG_DIR/buildkitd.log" bk_up
  say "buildkitd ready"
fi
BK_REPORTED=$("$FLEET_CACHE/bin/buildctl" --addr "$BUILDKIT_ADDR" debug info 2>/dev/null | awk '/^BuildKit:/ {print $NF; exit}' || true)
BK_REPORTED=${BK_REPORTED:-$BUILDKIT_VERSION}

if buildx_builder "$BUILDER_NAME" "$BUILDKIT_ADDR" "$DOCKER_CFG_DIR"; then
  say "wrote buildx builder $DOCKER_CFG_DIR/buildx/instances/$BUILDER_NAME"
else
  say "buildx builder '$BUILDER_NAME' already registered"
fi

# ---------------------------------------------------------------------------
# 4. Base image
# ---------------------------------------------------------------------------
say "== Base image $BASE_REPO:$BASE_TAG"
# The same script makes a stack's base at home (`npm run fleet -- base --stack S`).
BASE_REF=$(bash "$SCRIPT_DIR/base-image.sh" "$BASE_REPO" "$BASE_TAG") || die "the base image could not be made"
mkdir -p "$(dirname "$BASE_REF_FILE")"
if write_if_changed "$BASE_REF_FILE" <<<"$BASE_REF"; then
  say "wrote $BASE_REF_FILE"
fi

# ---------------------------------------------------------------------------
# optional smoke build: RUN step with network, through BuildKit
# ---------------------------------------------------------------------------
if [[ ${FLEET_INFRA_CHECK:-0} == 1 ]]; then
  say "== BuildKit smoke build (FLEET_INFRA_CHECK=1)"
  ctx=$(mktemp -d)
  printf 'FROM %s\nRUN apt-get update\n' "$BASE_REF" >"$ctx/Dockerfile"
  "$FLEET_CACHE/bin/buildctl" --addr "$BUILDKIT_ADDR" build --frontend dockerfile.v0 \
    --local context="$ctx" --local dockerfile="$ctx" --no-cache >"$LOG_DIR/smoke-build.log" 2>&1 || {
    tail -n 30 "$LOG_DIR/smoke-build.log" >&2
    rm -rf "$ctx"
    die "smoke build failed (RUN apt-get update inside BuildKit)"
  }
  rm -rf "$ctx"
  say "smoke build ok: RUN steps reach the Debian mirror"
fi

# ---------------------------------------------------------------------------
# 5. Summary
# ---------------------------------------------------------------------------
cat <<EOF

fleet local infrastructure is up ($((SECONDS - T0)) s)
  docker engine : $ENGINE_VERSION, client $(docker version --format '{{.Client.Version}}') = $FLEET_CACHE/bin/docker -> /usr/bin/docker
  registry      : http://$REGISTRY (storage $FLEET_CACHE/registry)
  builder       : $BUILDER_NAME (buildx remote driver) -> $BUILDKIT_ADDR, BuildKit $BK_REPORTED, OCI worker, network host
  base image    : $BASE_REF
                  (pinned in $(pwd)/$BASE_REF_FILE)
  stop with     : bash scripts/infra-down.sh
EOF
