#!/usr/bin/env bash
# Usage: build-docker-provider.sh VERSION OUTFILE
#
# Compiles the Pulumi Docker provider plugin (pulumi-resource-docker) that the
# npm package @pulumi/docker VERSION talks to, from Go modules only, and writes
# it to OUTFILE. The official plugin's Go module cannot be fetched here, so it
# is rebuilt from its parts:
#   - the upstream Terraform Docker provider module (a local, writable copy with
#     one added package, pulumishim, that exports its internal provider);
#   - pulumi-terraform-bridge with Pulumi's fork of terraform-plugin-sdk;
#   - docker-provider/ beside this script: the ProviderInfo (tokens and field
#     names the SDK uses), a tfgen main that writes schema.json and
#     bridge-metadata.json, and the plugin main that embeds them.
# The Terraform-backed resources (Container, RemoteImage, Network, Volume, ...)
# are all there; the native docker:index/image:Image resource is not.
#
# Work dir: $FLEET_CACHE/build/docker-provider-VERSION; Go caches:
# $FLEET_CACHE/go/{mod,build}. Reruns reuse both, and an OUTFILE that already
# reports VERSION is left alone.
#
# Pins can be overridden for a version without a row below:
#   DOCKER_PROVIDER_UPSTREAM   pseudo-version of the upstream Terraform module
#   DOCKER_PROVIDER_BRIDGE     pulumi-terraform-bridge/v3 version
#   DOCKER_PROVIDER_SDK_FORK   Pulumi fork of terraform-plugin-sdk/v2 (default:
#                              the one the bridge's own go.mod replaces it with)
set -euo pipefail

die() { echo "build-docker-provider: $*" >&2; exit 1; }
log() { echo "build-docker-provider: $*" >&2; }

[[ $# -eq 2 ]] || die "usage: $0 VERSION OUTFILE"
VERSION=${1#v}
OUTFILE=$2
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || die "bad VERSION '$1'"

# Fast path: the plugin is already there.
if [[ -x $OUTFILE ]] && [[ "$("$OUTFILE" -version 2>/dev/null || true)" == "$VERSION" ]]; then
    exit 0
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$HERE/docker-provider
FLEET_CACHE=${FLEET_CACHE:-$HOME/.cache/fleet}
WORK=$FLEET_CACHE/build/docker-provider-$VERSION

UPSTREAM_MOD=github.com/kreuzwerker/terraform-provider-docker
# The upstream go.mod names itself this; internal/ is importable under it only.
UPSTREAM_PATH=github.com/terraform-providers/terraform-provider-docker
BRIDGE_MOD=github.com/pulumi/pulumi-terraform-bridge/v3
SDK_MOD=github.com/hashicorp/terraform-plugin-sdk/v2
SDK_FORK_MOD=github.com/pulumi/terraform-plugin-sdk/v2

case $VERSION in
    # @pulumi/docker 5.2.0 has Container.deviceCgroupRules, which the upstream
    # provider gained in its v4.6.0 (2026-09-01); this is the upstream commit
    # after it. The bridge must be built against the same terraform-plugin-go
    # (v0.31) and plugin-framework (v1.19) as that upstream: v3.127.0 is.
    5.2.0)
        upstream=v0.0.0-20260916201441-96d331c98ff4
        bridge=v3.127.0
        ;;
    *)
        upstream= bridge=
        ;;
esac
upstream=${DOCKER_PROVIDER_UPSTREAM:-$upstream}
bridge=${DOCKER_PROVIDER_BRIDGE:-$bridge}
[[ -n $upstream && -n $bridge ]] ||
    die "no pins for $VERSION: set DOCKER_PROVIDER_UPSTREAM and DOCKER_PROVIDER_BRIDGE"

GO=$(command -v go || true)
[[ -n $GO ]] || GO=/usr/local/go/bin/go
[[ -x $GO ]] || die "no Go toolchain (go on PATH or /usr/local/go/bin/go)"
command -v node >/dev/null || die "node is needed to stamp the schema version"

export GOMODCACHE=$FLEET_CACHE/go/mod
export GOCACHE=$FLEET_CACHE/go/build
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local
# Build tag of the upstream module: leaves out docker_compose (a plugin
# framework resource that the SDKv2 bridge does not serve anyway).
TAGS=no_compose

mkdir -p "$WORK" "$GOMODCACHE" "$GOCACHE"
exec 9>"$WORK/.lock"
flock 9
# Another run may have finished while we waited for the lock.
if [[ -x $OUTFILE ]] && [[ "$("$OUTFILE" -version 2>/dev/null || true)" == "$VERSION" ]]; then
    exit 0
fi

start=$SECONDS

# The SDK fork: whatever the bridge's own go.mod replaces the SDK with.
sdk_fork=${DOCKER_PROVIDER_SDK_FORK:-}
if [[ -z $sdk_fork ]]; then
    bridge_gomod=$(cd "$WORK" && "$GO" mod download -json "$BRIDGE_MOD@$bridge" |
        sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    [[ -f $bridge_gomod ]] || die "could not download $BRIDGE_MOD@$bridge"
    sdk_fork=$(sed -n "s|^replace $SDK_MOD => $SDK_FORK_MOD \(v[^ ]*\)\$|\1|p" "$bridge_gomod")
    [[ -n $sdk_fork ]] || die "$BRIDGE_MOD@$bridge does not replace $SDK_MOD; set DOCKER_PROVIDER_SDK_FORK"
fi

log "building pulumi-resource-docker $VERSION (upstream $upstream, bridge $bridge, sdk fork $sdk_fork) in $WORK"

# 1. Writable copy of the upstream module, plus the shim package.
stamp="$upstream"
if [[ ! -f $WORK/upstream/.fleet-stamp || "$(cat "$WORK/upstream/.fleet-stamp")" != "$stamp" ]]; then
    dir=$(cd "$WORK" && "$GO" mod download -json "$UPSTREAM_MOD@$upstream" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -n $dir && -f $dir/go.mod ]] || die "could not download $UPSTREAM_MOD@$upstream"
    grep -q "^module $UPSTREAM_PATH\$" "$dir/go.mod" ||
        die "$UPSTREAM_MOD@$upstream does not declare module $UPSTREAM_PATH"
    rm -rf "$WORK/upstream"
    cp -r "$dir" "$WORK/upstream"
    chmod -R u+w "$WORK/upstream"
    echo "$stamp" > "$WORK/upstream/.fleet-stamp"
fi
mkdir -p "$WORK/upstream/pulumishim"
cp "$SRC/shim/shim.go" "$WORK/upstream/pulumishim/shim.go"

# 2. The build module: our sources, and a go.mod that ties the pieces together.
mkdir -p "$WORK/src"
rm -rf "$WORK/src/info" "$WORK/src/cmd.new"
cp -r "$SRC/info" "$WORK/src/info"
cp -r "$SRC/cmd" "$WORK/src/cmd.new"
# Keep generated files (schema.json, bridge-metadata.json) out of the swap.
for f in schema.json bridge-metadata.json; do
    if [[ -f $WORK/src/cmd/pulumi-resource-docker/$f ]]; then
        cp "$WORK/src/cmd/pulumi-resource-docker/$f" "$WORK/src/cmd.new/pulumi-resource-docker/$f"
    else
        echo '{}' > "$WORK/src/cmd.new/pulumi-resource-docker/$f"
    fi
done
rm -rf "$WORK/src/cmd"
mv "$WORK/src/cmd.new" "$WORK/src/cmd"

gomod="module fleet/docker-provider

go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$WORK/upstream/go.mod")

require (
	$BRIDGE_MOD $bridge
	$UPSTREAM_PATH v0.0.0
)

replace (
	$SDK_MOD => $SDK_FORK_MOD $sdk_fork
	$UPSTREAM_PATH => ../upstream
)
"
# go.mod.in keeps what was last resolved; tidy only when it changes.
printf '%s' "$gomod" > "$WORK/src/go.mod.want"
if ! cmp -s "$WORK/src/go.mod.want" "$WORK/src/go.mod.in" || [[ ! -f $WORK/src/go.sum ]]; then
    cp "$WORK/src/go.mod.want" "$WORK/src/go.mod"
    rm -f "$WORK/src/go.sum" "$WORK/src/go.mod.in"
    log "resolving modules (go mod tidy)"
    if ! (cd "$WORK/src" && "$GO" mod tidy) > "$WORK/tidy.log" 2>&1; then
        grep -v '^go: downloading ' "$WORK/tidy.log" >&2 || true
        die "go mod tidy failed (log: $WORK/tidy.log)"
    fi
    mv "$WORK/src/go.mod.want" "$WORK/src/go.mod.in"
fi

# 3. tfgen: schema.json and bridge-metadata.json from the ProviderInfo.
log "compiling pulumi-tfgen-docker"
(cd "$WORK/src" && "$GO" build -tags "$TAGS" -ldflags "-X main.version=$VERSION" \
    -o "$WORK/bin/pulumi-tfgen-docker" ./cmd/pulumi-tfgen-docker)
rm -rf "$WORK/schema"
(cd "$WORK" && "$WORK/bin/pulumi-tfgen-docker" schema --out "$WORK/schema" \
    --skip-docs --skip-examples --quiet) > "$WORK/tfgen.log" 2>&1 ||
    { cat "$WORK/tfgen.log" >&2; die "tfgen failed"; }
[[ -s $WORK/schema/schema.json && -s $WORK/schema/bridge-metadata.json ]] ||
    die "tfgen wrote no schema.json/bridge-metadata.json (see $WORK/tfgen.log)"
# tfgen leaves the version out of the schema; the plugin reports it.
node -e '
    const fs = require("fs");
    const [file, version] = process.argv.slice(1);
    const s = JSON.parse(fs.readFileSync(file, "utf8"));
    fs.writeFileSync(file, JSON.stringify(Object.assign({ name: s.name, version }, s, { version })));
' "$WORK/schema/schema.json" "$VERSION"
for f in schema.json bridge-metadata.json; do
    cmp -s "$WORK/schema/$f" "$WORK/src/cmd/pulumi-resource-docker/$f" ||
        cp "$WORK/schema/$f" "$WORK/src/cmd/pulumi-resource-docker/$f"
done

# 4. The plugin, with the version stamped in.
log "compiling pulumi-resource-docker"
mkdir -p "$(dirname "$OUTFILE")"
tmp="$OUTFILE.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(cd "$WORK/src" && "$GO" build -tags "$TAGS" -ldflags "-s -w -X main.version=$VERSION" \
    -o "$tmp" ./cmd/pulumi-resource-docker)
got=$("$tmp" -version)
[[ $got == "$VERSION" ]] || die "built plugin reports version '$got', want '$VERSION'"
mv -f "$tmp" "$OUTFILE"
trap - EXIT
log "wrote $OUTFILE ($((SECONDS - start))s)"
