#!/usr/bin/env bash
# The fleet's Debian base image in a registry, pinned by digest:
#   bash scripts/base-image.sh REPO TAG [FROM]
# prints REPO@sha256:... on stdout (progress on stderr). REPO is host[:port]/path, like
# 127.0.0.1:5000/fleet/debian-bookworm. When the registry already has REPO:TAG, its digest is
# printed and nothing is made (so a second machine of the same registry gets the same base).
# Otherwise, with FROM (a pinned image in any registry this host reaches), that image is copied
# to REPO:TAG with its digest preserved; without FROM, a minimal bookworm is made with
# debootstrap from the host's Debian mirror (~90 s), imported into the local Docker engine and
# pushed. FLEET_BASE_REBUILD=1 makes (or copies) it even when the tag exists.
# Used by scripts/infra.sh (the local registry) and `npm run fleet -- base --stack S`.
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FLEET_CACHE="${FLEET_CACHE:-$HOME/.cache/fleet}"
LOG_DIR="$FLEET_CACHE/log"
mkdir -p "$LOG_DIR"
say() { printf '[base] %s\n' "$*" >&2; }
die() { printf '[base] ERROR: %s\n' "$*" >&2; exit 1; }
(($# == 2 || $# == 3)) || die "usage: base-image.sh REPO TAG [FROM]"
REPO=$1 TAG=$2 FROM=${3:-}
[[ $REPO =~ ^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+$ ]] || die "REPO must be host[:port]/path; got '$REPO'"
HOST=${REPO%%/*} PATH_IN_REGISTRY=${REPO#*/}
DOCKER=$([[ -x $FLEET_CACHE/bin/docker ]] && echo "$FLEET_CACHE/bin/docker" || echo docker)

# The registry's scheme: plain HTTP for loopback (as Docker and BuildKit do), else HTTPS if it
# answers there, else HTTP (a LAN registry its clients trust as insecure, see `fleet trust`).
scheme() {
  case $HOST in 127.*|localhost|localhost:*) echo http; return ;; esac
  if curl -fs -o /dev/null --max-time 10 "https://$HOST/v2/"; then echo https; else echo http; fi
}
SCHEME=$(scheme)
curl -fs -o /dev/null --max-time 10 "$SCHEME://$HOST/v2/" || die "no registry answers at $SCHEME://$HOST/v2/"
TLS_VERIFY=$([[ $SCHEME == https ]] && echo true || echo false)

registry_digest() { # tag -> manifest digest, or nothing
  curl -fsSI \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "$SCHEME://$HOST/v2/$PATH_IN_REGISTRY/manifests/$1" 2>/dev/null |
    tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" {print $2}'
}

# Debian sources of the host (bookworm, bookworm-updates, bookworm-security), as
# "URI SUITE COMPONENTS" lines, read from the host's apt configuration.
host_debian_sources() {
  local f
  {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -f $f ]] || continue
      awk '$1 == "deb" {
             i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
             uri = $i; suite = $(i+1); comps = ""
             for (j = i+2; j <= NF; j++) comps = comps " " $j
             print uri, suite, comps }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -f $f ]] || continue
      awk 'function flush() {
             if (types ~ /(^| )deb( |$)/ && enabled != "no")
               for (u in U) for (s in S) print U[u], S[s], comps
             delete U; delete S; types = ""; comps = ""; enabled = "" }
           /^[ \t]*#/ { next }
           /^[ \t]*$/ { flush(); next }
           { key = tolower($1); sub(/:$/, "", key); $1 = ""; val = substr($0, 2) }
           key == "types" { types = val }
           key == "uris" { n = split(val, a, " "); for (k = 1; k <= n; k++) U[k] = a[k] }
           key == "suites" { n = split(val, a, " "); for (k = 1; k <= n; k++) S[k] = a[k] }
           key == "components" { comps = val }
           key == "enabled" { enabled = tolower(val) }
           END { flush() }' "$f"
    done
  } | awk '$2 ~ /^bookworm(-updates|-security)?$/ && !seen[$0]++' | sort -s -k2,2
}

make_with_debootstrap() {
  command -v debootstrap >/dev/null || {
    say "apt-get install debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >"$LOG_DIR/apt-debootstrap.log" 2>&1 ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >"$LOG_DIR/apt-debootstrap.log" 2>&1; } ||
      { tail -n 20 "$LOG_DIR/apt-debootstrap.log" >&2; die "installing debootstrap failed"; }
  }
  local sources mirror="" s uri suite comps rootfs
  mapfile -t sources < <(host_debian_sources)
  ((${#sources[@]})) || die "no bookworm source found in /etc/apt/sources.list{,.d}"
  for s in "${sources[@]}"; do
    read -r uri suite _ <<<"$s"
    if [[ $suite == bookworm ]]; then mirror=$uri; break; fi
  done
  [[ -n $mirror ]] || die "no 'bookworm' suite in the host apt sources"
  rootfs="$FLEET_CACHE/rootfs/debian-bookworm"
  rm -rf "$rootfs"
  mkdir -p "$rootfs"
  say "debootstrap --variant=minbase bookworm from the host's mirror (~90 s, log: $LOG_DIR/debootstrap.log)"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$LOG_DIR/debootstrap.log" 2>&1; then
    tail -n 30 "$LOG_DIR/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  # apt sources inside the image: the same Debian sources as the host
  {
    echo "# bookworm sources, taken from the build host's apt configuration"
    for s in "${sources[@]}"; do
      read -r uri suite comps <<<"$s"
      echo "deb $uri $suite ${comps:-main}"
    done
  } >"$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/archives/partial/* \
    "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/* "$rootfs"/root/.bash_history
  # /etc/resolv.conf and /etc/hostname come from the container runtime
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname"
  say "importing the rootfs into docker and pushing $REPO:$TAG"
  tar --numeric-owner -C "$rootfs" -c . |
    "$DOCKER" import \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      -c 'CMD ["bash"]' \
      -m "debootstrap --variant=minbase bookworm" \
      - "$REPO:$TAG" >/dev/null
  "$DOCKER" push "$REPO:$TAG" >"$LOG_DIR/base-push.log" 2>&1 || {
    cat "$LOG_DIR/base-push.log" >&2
    die "docker push $REPO:$TAG failed (does this host's Docker engine trust $HOST? see \`npm run fleet -- trust\`)"
  }
  rm -rf "$rootfs"
}

digest=""
[[ ${FLEET_BASE_REBUILD:-0} == 1 ]] || digest=$(registry_digest "$TAG" || true)
if [[ -n $digest ]]; then
  say "the registry already has $REPO:$TAG"
elif [[ -n $FROM ]]; then
  [[ $FROM =~ @sha256:[0-9a-f]{64}$ ]] || die "FROM must be pinned by digest (repo@sha256:...); got '$FROM'"
  say "copying $FROM to $REPO:$TAG (digest preserved)"
  src_tls=true
  case ${FROM%%/*} in 127.*|localhost|localhost:*) src_tls=false ;; esac
  skopeo copy --preserve-digests --src-tls-verify="$src_tls" --dest-tls-verify="$TLS_VERIFY" \
    "docker://$FROM" "docker://$REPO:$TAG" >"$LOG_DIR/base-copy.log" 2>&1 ||
    { tail -n 20 "$LOG_DIR/base-copy.log" >&2; die "skopeo copy $FROM -> $REPO:$TAG failed"; }
  digest=$(registry_digest "$TAG")
  [[ $digest == "${FROM##*@}" ]] || die "copied $FROM but the registry reports digest '$digest'"
else
  make_with_debootstrap
  digest=$(registry_digest "$TAG")
fi
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "the registry reports no digest for $REPO:$TAG"
echo "$REPO@$digest"
