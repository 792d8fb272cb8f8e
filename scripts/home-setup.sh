#!/usr/bin/env bash
# Once per home machine, as root: everything `pulumi up -s mainpc|pc2` needs on it besides Node
# and the Pulumi CLI. Idempotent: run it again after any change; it says what it found and did,
# one line a check, and stops at the first thing only you can fix.
#   sudo bash scripts/home-setup.sh --registry 192.168.1.20:5000 registry.home.arpa:5000   (mainpc)
#   sudo bash scripts/home-setup.sh registry.home.arpa:5000                                (pc2)
# REGISTRY (registry.home.arpa:5000) is the home registry by the name your DNS or /etc/hosts gives
# it; --registry ADDRESS:PORT also runs it on this machine, on that address (its LAN address).
#
#   1. Docker engine: the installed one is used as it is, never replaced (Docker's own packages,
#      Debian's docker.io, ...). Only with no engine at all is Debian's docker.io installed.
#   2. NVIDIA Container Toolkit: the engine lists the `nvidia` runtime, or one line says how to
#      add it (GPU stacks are refused by the preflight until then; nothing else needs it).
#   3. The engine's /etc/docker/daemon.json: live-restore (services keep running while the engine
#      restarts) and REGISTRY in insecure-registries (plain HTTP on the LAN; every fleet client
#      follows the engine's trust). The engine is restarted when that file changed.
#   4. With --registry: the registry (scripts/home-registry.sh), a service that starts at boot.
#   5. The builder: BuildKit (compiled once from its Go module where it cannot be downloaded) as a
#      service that starts at boot, trusting REGISTRY, registered as buildx builder `fleet` for the
#      user who ran sudo (docker-build finds builders in that user's ~/.docker).
#   6. The supply-chain tools (syft, Trivy) and the vulnerability database, for that user
#      (scripts/supply-tools.sh, with progress; the first time compiles Trivy, ~10 minutes).
#
# With systemd, services are units (fleet-buildkitd, docker-registry) enabled at boot. Without
# it, they are started now (scripts/engine.sh) and this says they will not come back after a
# reboot. Where a machine's pieces live can be moved for a rehearsal (the tests): DOCKER_HOST,
# DOCKER_DAEMON_JSON, FLEET_RUN_DIR and FLEET_REGISTRY_CONFIG/FLEET_REGISTRY_STORAGE.
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/daemon.sh
source "$SCRIPT_DIR/lib/daemon.sh"

usage() { echo "usage: sudo bash scripts/home-setup.sh [--registry ADDRESS:PORT] REGISTRY_HOST:PORT (like registry.home.arpa:5000)" >&2; exit 2; }
serve=""
case ${1:-} in --registry) serve=${2:-}; shift 2 || usage ;; esac
(($# == 1)) || usage
registry=$1
[[ $registry =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?:[0-9]+$ ]] || { echo "home-setup.sh: REGISTRY must be HOST:PORT like registry.home.arpa:5000; got '$registry'" >&2; exit 2; }
[[ -z $serve || $serve =~ ^[0-9.]+:[0-9]+$ ]] || { echo "home-setup.sh: --registry must be ADDRESS:PORT like 192.168.1.20:5000; got '$serve'" >&2; exit 2; }
((EUID == 0)) || { echo "home-setup.sh: run it as root (sudo bash scripts/home-setup.sh ...): it installs packages and services" >&2; exit 1; }

# The user who ran sudo owns the builder registration, the tools and the caches.
user=${SUDO_USER:-$(id -un)}
user_home=$HOME
[[ -n ${SUDO_USER:-} ]] && user_home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
as_user() { if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then sudo -u "$SUDO_USER" -H env FLEET_CACHE="$FLEET_CACHE" "$@"; else "$@"; fi; }
export FLEET_CACHE="${FLEET_CACHE:-$user_home/.cache/fleet}"
systemd=0
[[ -d /run/systemd/system ]] && systemd=1
ok() { printf 'home-setup: %-22s %s\n' "$1" "$2"; }
fail() { printf 'home-setup: %-22s %s\n' "$1" "$2" >&2; exit 1; }
docker_cli=$(command -v docker || true)
[[ -n $docker_cli ]] || docker_cli=/usr/bin/docker

# 1. Docker engine
if ! "$docker_cli" version >/dev/null 2>&1; then
  if [[ -n ${DOCKER_HOST:-} ]] || command -v dockerd >/dev/null; then
    fail "docker engine" "installed but not answering at ${DOCKER_HOST:-unix:///var/run/docker.sock}; start it (systemctl start docker) and run this again"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  ((systemd)) && systemctl enable --now docker >/dev/null
  docker_cli=/usr/bin/docker
  "$docker_cli" version >/dev/null 2>&1 || fail "docker engine" "Debian's docker.io was installed but does not answer; start dockerd and run this again"
  ok "docker engine" "installed Debian's docker.io"
else
  ok "docker engine" "$("$docker_cli" version --format 'Docker {{.Server.Version}}'), used as it is"
fi

# 2. NVIDIA Container Toolkit
if "$docker_cli" info --format '{{json .Runtimes}}' | grep -q '"nvidia"'; then
  ok "nvidia toolkit" "the engine has the nvidia runtime"
else
  ok "nvidia toolkit" "MISSING: install the NVIDIA Container Toolkit, then: sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker (until then GPU services are refused before anything changes)"
fi

# 3. daemon.json: live-restore and the registry's trust
daemon_json=${DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
mkdir -p "$(dirname "$daemon_json")"
changed=$(node -e '
  const fs = require("fs"), [file, reg] = process.argv.slice(1);
  let cfg = {};
  if (fs.existsSync(file)) {
    try { cfg = JSON.parse(fs.readFileSync(file, "utf8") || "{}"); }
    catch (e) { console.error(`home-setup: ${file} is not valid JSON (${e.message}); fix it first`); process.exit(1); }
  }
  const before = JSON.stringify(cfg);
  cfg["live-restore"] = true;
  cfg["insecure-registries"] = [...new Set([...(cfg["insecure-registries"] || []), reg])];
  if (JSON.stringify(cfg) !== before) { fs.writeFileSync(file, JSON.stringify(cfg, null, 2) + "\n"); console.log("yes"); }
' "$daemon_json" "$registry")
if [[ $changed == yes ]]; then
  if ((systemd)); then
    systemctl restart docker
    ok "engine settings" "$daemon_json: live-restore, $registry trusted; the engine was restarted"
  else
    ok "engine settings" "$daemon_json: live-restore, $registry trusted; RESTART the Docker engine now to apply them (no systemd here)"
  fi
else
  ok "engine settings" "$daemon_json: live-restore, $registry trusted"
fi
# The builder's trust follows the same list (scripts/engine.sh and scripts/infra.sh read it).
mkdir -p "$FLEET_CACHE"
grep -qxF "$registry" "$FLEET_CACHE/trusted-registries" 2>/dev/null || echo "$registry" >>"$FLEET_CACHE/trusted-registries"

# 4. the registry, on the machine that serves it
if [[ -n $serve ]]; then
  ok "registry" "$(bash "$SCRIPT_DIR/home-registry.sh" "$serve" | tail -n 1)"
fi

# 5. the builder
buildkitd="$FLEET_CACHE/bin/buildkitd"
if [[ ! -x $buildkitd ]]; then
  echo "home-setup: compiling BuildKit from its Go module, once (a few minutes)" >&2
  buildkit_binaries
fi
if ((systemd)); then
  conf=/etc/fleet/buildkitd.toml
  mkdir -p /etc/fleet /var/lib/fleet-buildkit
  mapfile -t trusted <"$FLEET_CACHE/trusted-registries"
  buildkitd_toml /var/lib/fleet-buildkit unix:///run/fleet-buildkit/buildkitd.sock "${trusted[@]}" >"$conf"
  cat >/etc/systemd/system/fleet-buildkitd.service <<EOF
[Unit]
Description=BuildKit daemon for fleet (buildx builder "fleet")
After=network-online.target

[Service]
ExecStart=$(readlink -f "$buildkitd") --config $conf
RuntimeDirectory=fleet-buildkit
Restart=always

[Install]
WantedBy=multi-user.target
EOF
  systemctl daemon-reload
  systemctl enable fleet-buildkitd >/dev/null 2>&1
  systemctl restart fleet-buildkitd
  endpoint=unix:///run/fleet-buildkit/buildkitd.sock
  ok "builder" "fleet-buildkitd.service, enabled at boot, trusting $(paste -sd, "$FLEET_CACHE/trusted-registries")"
else
  endpoint=$(bash "$SCRIPT_DIR/engine.sh" restart buildkit fleet)
  ok "builder" "BuildKit started at $endpoint, trusting $(paste -sd, "$FLEET_CACHE/trusted-registries"); no systemd here, so it does not start at boot"
fi
buildx_builder fleet "$endpoint" "$user_home/.docker" || true
[[ -n ${SUDO_USER:-} ]] && chown -R "$SUDO_USER" "$user_home/.docker" "$FLEET_CACHE" 2>/dev/null || true
ok "builder registration" "buildx builder fleet for $user ($user_home/.docker/buildx/instances/fleet)"

# 6. supply-chain tools and database, for the user
as_user bash "$SCRIPT_DIR/supply-tools.sh" >/dev/null
ok "supply tools" "$(sed -n 's/^SCAN_DB=\(..*\)/scanning with the advisories in \1/p; s/^SCAN_DB=$/scanning with Trivy'"'"'s own database/p' "$FLEET_CACHE/supply-tools.env")"
echo "home-setup: done; next: pulumi login, pulumi stack init, pulumi up (README, At home)"
