#!/usr/bin/env bash
# Provide fleet's Pulumi toolchain at exactly the versions the project pins:
#   pulumi, pulumi-language-nodejs  = package.json dependencies["@pulumi/pulumi"]
#   pulumi-resource-docker-build    = node_modules/@pulumi/docker-build/package.json pulumi.version
#   pulumi-resource-command         = node_modules/@pulumi/command/package.json pulumi.version
#   pulumi-resource-docker          = node_modules/@pulumi/docker/package.json pulumi.version
#                                     (built by scripts/toolchain/build-docker-provider.sh)
#
# A `pulumi` already on PATH (outside $FLEET_CACHE) at or above the pinned SDK's version is used
# as is, with plugins acquired by its engine as usual (section 0): nothing is compiled.
# Otherwise everything is compiled from Go modules (CGO_ENABLED=0, -trimpath, version stamped)
# into $FLEET_CACHE/toolchain/<name>-<version>/. pulumi and pulumi-language-nodejs are
# symlinked into $FLEET_CACHE/bin, which scripts/env.sh puts first on PATH; the language
# host also sits next to the pulumi binary, where the engine looks first.
# The resource plugins are NOT put on PATH: the engine prefers any pulumi-resource-* on
# PATH over its plugin cache whatever the requested version, and warns "using
# pulumi-resource-X from $PATH" on every run. They are registered in Pulumi's plugin
# cache instead (`pulumi plugin install --file`, ${PULUMI_HOME:-~/.pulumi}/plugins), where
# the engine selects them by exact version and `pulumi plugin ls` lists them
# (FLEET_TOOLCHAIN_LINK_PROVIDERS=1 links them into $FLEET_CACHE/bin as well).
# A rerun with everything cached only checks and prints (a few seconds).
#
# Two pieces are not served by the Go module proxy this project can reach (checked
# 2026-11): the 3.248.0 nodejs language host (a fallback is built, see section 2) and
# the command provider module (reported as not available; the program does not need it).
#
# Run from anywhere as `npm run toolchain` or `bash scripts/toolchain.sh` (needs `npm ci` first).
# Environment:
#   FLEET_CACHE                  cache root (default ~/.cache/fleet), see scripts/env.sh
#   FLEET_TOOLCHAIN=compile|installed
#                                always compile | only use an installed CLI (default: the
#                                installed one when recent enough, else compile)
#   FLEET_TOOLCHAIN_REBUILD=1    rebuild even what is cached
#   FLEET_TOOLCHAIN_ALLOW_MISSING=1
#                                exit 0 even if a required binary could not be provided
#   FLEET_LANGUAGE_NODEJS_VERSION, FLEET_COMMAND_PROVIDER_MODULE_VERSION
#                                Go module versions to use for the two modules that have
#                                no release tag of their own (default: the pseudo-version
#                                of the commit of the release tag)
#   FLEET_LANGUAGE_NODEJS_FALLBACK
#                                release whose language host is built when the exact one
#                                is not served (default 3.68.0; "none" to fail instead)
#   GOTOOLCHAIN                  default "local" (the machine's Go)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

T0=$SECONDS
say()  { printf '[toolchain %4ss] %s\n' "$((SECONDS - T0))" "$*"; }
warn() { printf '[toolchain %4ss] WARNING: %s\n' "$((SECONDS - T0))" "$*" >&2; }
die()  { printf '[toolchain] ERROR: %s\n' "$*" >&2; exit 1; }

TOOLCHAIN_DIR="$FLEET_CACHE/toolchain"
BIN_DIR="$FLEET_CACHE/bin"
WORK_ROOT="$FLEET_CACHE/work"
LOG_DIR="$FLEET_CACHE/log"
mkdir -p "$TOOLCHAIN_DIR" "$BIN_DIR" "$WORK_ROOT" "$LOG_DIR"
REBUILD=${FLEET_TOOLCHAIN_REBUILD:-0}

# ---------------------------------------------------------------------------
# versions from package.json and node_modules
# ---------------------------------------------------------------------------
command -v node >/dev/null || die "node is needed to read package.json"
[[ -d $REPO_DIR/node_modules/@pulumi/pulumi ]] ||
  die "$REPO_DIR/node_modules is missing: run 'npm ci' in $REPO_DIR first"

# One node run reads every version: package.json's pin of @pulumi/pulumi, the installed
# SDK's version (must match) and the plugin version each provider SDK asks for.
versions=$(node -e '
  const fs = require("fs"), path = require("path"), root = process.argv[1];
  const read = (f) => {
    try { return JSON.parse(fs.readFileSync(path.join(root, f), "utf8")); }
    catch (e) { console.error(`cannot read ${f}: ${e.message} (run npm ci in ${root})`); process.exit(1); }
  };
  const exact = (v, what) => {
    if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(String(v))) {
      console.error(`${what} is "${v}", not an exact version x.y.z`); process.exit(1);
    }
    return v;
  };
  const pin = exact((read("package.json").dependencies || {})["@pulumi/pulumi"], "package.json dependencies[\"@pulumi/pulumi\"]");
  const sdk = read("node_modules/@pulumi/pulumi/package.json").version;
  if (sdk !== pin) {
    console.error(`node_modules has @pulumi/pulumi ${sdk} but package.json pins ${pin}: run npm ci`); process.exit(1);
  }
  const out = [pin];
  for (const p of ["docker-build", "command", "docker"]) {
    const f = `node_modules/@pulumi/${p}/package.json`;
    out.push(exact((read(f).pulumi || {}).version, `${f} pulumi.version`));
  }
  console.log(out.join(" "));' "$REPO_DIR") || die "cannot determine the wanted versions (see above)"
read -r PULUMI_VERSION DOCKER_BUILD_VERSION COMMAND_VERSION DOCKER_VERSION <<<"$versions"

say "wanted: pulumi $PULUMI_VERSION, pulumi-language-nodejs $PULUMI_VERSION, docker-build $DOCKER_BUILD_VERSION, command $COMMAND_VERSION, docker $DOCKER_VERSION"

# ---------------------------------------------------------------------------
# the policy pack's analyzer (policy/PulumiPolicy.yaml, runtime fleet-node), for either CLI
# ---------------------------------------------------------------------------
# For a pack whose runtime has a language host the CLI asks that host to run it (RunPlugin),
# which the nodejs hosts this project runs with do not support. For a runtime with no language
# host it runs the analyzer plugin `policy-<runtime>` in the pack's folder with the engine's
# address and "." (pulumi sdk/go/common/resource/plugin/analyzer_plugin.go, NewPolicyAnalyzer):
# this is that plugin, node running the SDK's run-policy-pack found from the pack's folder. Like
# the providers it goes to the plugin cache of the CLI that runs it (PULUMI_HOME), not PATH (a
# plugin on PATH warns on every run). An installed CLI needs it as much as the compiled one.
POLICY_ANALYZER_DIR="$TOOLCHAIN_DIR/policy-analyzer"
POLICY_ANALYZER="$POLICY_ANALYZER_DIR/pulumi-analyzer-policy-fleet-node"
# register_policy_analyzer PULUMI: writes the analyzer and installs it into PULUMI's plugin cache.
register_policy_analyzer() {
  mkdir -p "$POLICY_ANALYZER_DIR"
  cat >"$POLICY_ANALYZER.new" <<'SHIM'
#!/bin/sh
# Written by fleet's scripts/toolchain.sh: runs a TypeScript policy pack with the project's SDK.
runner=$(node -p "require.resolve('@pulumi/pulumi/cmd/run-policy-pack', { paths: [process.cwd()] })") || exit 1
exec node "$runner" "$@"
SHIM
  chmod 755 "$POLICY_ANALYZER.new"
  mv -f "$POLICY_ANALYZER.new" "$POLICY_ANALYZER"
  local dir="${PULUMI_HOME:-$HOME/.pulumi}/plugins/analyzer-policy-fleet-node-v1.0.0"
  if ! { [[ -f $dir/pulumi-analyzer-policy-fleet-node && ! -e $dir.partial ]] &&
    cmp -s "$POLICY_ANALYZER" "$dir/pulumi-analyzer-policy-fleet-node"; }; then
    say "registering analyzer plugin policy-fleet-node 1.0.0 in ${PULUMI_HOME:-$HOME/.pulumi}"
    "$1" plugin install analyzer policy-fleet-node 1.0.0 --file "$POLICY_ANALYZER" --reinstall \
      >"$LOG_DIR/plugin-install-policy-fleet-node.log" 2>&1 || {
      cat "$LOG_DIR/plugin-install-policy-fleet-node.log" >&2
      die "pulumi plugin install analyzer policy-fleet-node 1.0.0 --file $POLICY_ANALYZER failed"
    }
  fi
}

# ---------------------------------------------------------------------------
# 0. a Pulumi CLI installed the usual way (at home): used as it is
# ---------------------------------------------------------------------------
# Any pulumi on PATH outside $FLEET_CACHE at or above the SDK's version runs this program. Its
# distribution carries the language host, and its engine acquires the provider plugins the
# program asks for, as on any Pulumi machine; scripts/env.sh then leaves the backend and plugin
# acquisition to the user. FLEET_TOOLCHAIN=compile always compiles (machines without downloads);
# FLEET_TOOLCHAIN=installed never does (fails when no installed CLI is recent enough).
MODE_FILE="$FLEET_CACHE/toolchain.mode"
version_ge() { [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1) == "$2" ]]; }
if [[ ${FLEET_TOOLCHAIN:-auto} != compile ]]; then
  too_old=()
  while IFS= read -r cand; do
    [[ -n $cand ]] || continue
    real=$(readlink -f "$cand")
    case "$real" in "$FLEET_CACHE"/*) continue ;; esac
    v=$("$cand" version 2>/dev/null | tr -d '[:space:]' || true)
    v=${v#v}
    if [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] && version_ge "${v%%[-+]*}" "$PULUMI_VERSION"; then
      register_policy_analyzer "$cand"
      printf 'installed %s\n' "$real" >"$MODE_FILE"
      say "using the installed pulumi $v ($real): at or above $PULUMI_VERSION, which @pulumi/pulumi $PULUMI_VERSION needs"
      echo "fleet toolchain: installed pulumi $v at $real; the engine acquires the provider plugins itself; nothing compiled: ok"
      exit 0
    fi
    too_old+=("$cand is ${v:-unknown}")
    say "ignoring $cand: it is ${v:-of no known version}, older than $PULUMI_VERSION"
  done < <(type -ap pulumi || true)
  if [[ ${FLEET_TOOLCHAIN:-auto} == installed ]]; then
    die "FLEET_TOOLCHAIN=installed: no pulumi at or above $PULUMI_VERSION on PATH outside $FLEET_CACHE${too_old:+ (${too_old[*]})}; install the Pulumi CLI, or run without FLEET_TOOLCHAIN to compile one"
  fi
fi

# ---------------------------------------------------------------------------
# Go environment (only used when something must be compiled)
# ---------------------------------------------------------------------------
GO_READY=0
go_setup() {
  ((GO_READY)) && return 0
  if ! command -v go >/dev/null; then
    [[ -x /usr/local/go/bin/go ]] && export PATH="$PATH:/usr/local/go/bin"
  fi
  command -v go >/dev/null || die "go is needed to compile the toolchain (none on PATH nor /usr/local/go/bin)"
  export GOMODCACHE="$FLEET_CACHE/go/mod"
  export GOCACHE="$FLEET_CACHE/go/cache"
  export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
  export GOFLAGS="-modcacherw -buildvcs=false"
  export CGO_ENABLED=0
  export GO111MODULE=on
  mkdir -p "$GOMODCACHE" "$GOCACHE"
  say "compiling with $(go env GOVERSION) (GOMODCACHE=$GOMODCACHE GOCACHE=$GOCACHE)"
  GO_READY=1
}

# mod_info MODULE@VERSION -> prints "Dir Hash Time" (Hash/Time of the VCS origin, may be '-')
mod_info() {
  local json
  # -json reports a refusal in the "Error" field (and exits 1): keep stdout for that
  json=$(go mod download -json "$1" 2>/dev/null) || true
  [[ -n $json ]] || { echo "go mod download $1 failed" >&2; return 1; }
  node -e '
    const m = JSON.parse(process.argv[1]);
    if (m.Error) { console.error(m.Error); process.exit(1); }
    let info = {};
    try { info = JSON.parse(require("fs").readFileSync(m.Info, "utf8")); } catch (e) {}
    const o = m.Origin || info.Origin || {};
    console.log([m.Dir || "-", o.Hash || "-", info.Time || "-"].join(" "));' "$json"
}

# pseudo_version BASE HASH TIME -> Go pseudo-version BASE-yyyymmddhhmmss-hash12
pseudo_version() {
  local ts
  ts=$(date -u -d "$3" +%Y%m%d%H%M%S) || return 1
  echo "$1-$ts-${2:0:12}"
}

# nonlocal_replaces GO.MOD -> the replace directives of GO.MOD that point at a module
# version (local ones like `=> ../sdk` are dropped: the wrappers require those modules)
nonlocal_replaces() {
  go mod edit -json "$1" | node -e '
    const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const r of m.Replace || []) if (r.New.Version)
      console.log("replace " + r.Old.Path + (r.Old.Version ? " " + r.Old.Version : "") +
        " => " + r.New.Path + " " + r.New.Version);'
}

# ---------------------------------------------------------------------------
# cache helpers
# ---------------------------------------------------------------------------
# cached NAME VERSION BINARY -> 0 if the binary is in the cache (and no rebuild was asked)
cached() {
  [[ $REBUILD == 1 ]] && return 1
  [[ -x $TOOLCHAIN_DIR/$1-$2/$3 && -s $TOOLCHAIN_DIR/$1-$2/$3 ]]
}
# install_binary NAME VERSION BUILT_FILE BINARY : move a fresh build into the cache atomically
install_binary() {
  local dest="$TOOLCHAIN_DIR/$1-$2"
  mkdir -p "$dest"
  chmod 755 "$3"
  mv -f "$3" "$dest/$4"
}
link_bin() { ln -sfn "$1" "$BIN_DIR/$(basename "$1")"; }

# go_build_wrapper NAME VERSION BINARY MAIN_PKG LDFLAGS TAGS GOMOD_BODY [STUB_DIR...]
# Builds MAIN_PKG inside a throw-away wrapper module under $WORK_ROOT whose go.mod is
# GOMOD_BODY (requires + replaces). The binary lands in the cache on success only.
go_build_wrapper() {
  local name=$1 version=$2 binary=$3 main_pkg=$4 ldflags=$5 tags=$6 gomod=$7
  local work="$WORK_ROOT/$name-$version" log="$LOG_DIR/build-$name-$version.log"
  rm -rf "$work"
  mkdir -p "$work"
  printf 'module fleet.local/toolchain/%s\n\ngo 1.24\n\n%s\n' "$name" "$gomod" >"$work/go.mod"
  # A build-tagged file that imports the main package, so that `go mod tidy` resolves it.
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$main_pkg" >"$work/tools.go"
  if [[ -n ${STUBS_FN:-} ]]; then "$STUBS_FN" "$work"; fi
  say "building $binary $version (log: $log)"
  local t=$SECONDS
  if ! (
    cd "$work"
    go mod tidy
    go build -trimpath ${tags:+-tags "$tags"} -ldflags "$ldflags" -o "$work/$binary.new" "$main_pkg"
    go version -m "$work/$binary.new" | grep -E '^[[:space:]]+(path|mod|=>)'
  ) >"$log" 2>&1; then
    tail -n 25 "$log" >&2
    return 1
  fi
  install_binary "$name" "$version" "$work/$binary.new" "$binary"
  cp "$work/go.mod" "$TOOLCHAIN_DIR/$name-$version/build.go.mod"
  rm -rf "$work"
  say "built $binary $version in $((SECONDS - t)) s"
}

MISSING=()   # required pieces that could not be provided
SUMMARY=()   # one line per component

# ---------------------------------------------------------------------------
# 1. pulumi CLI (+ the scripts the CLI distribution ships next to it)
# ---------------------------------------------------------------------------
PULUMI_TAG="v$PULUMI_VERSION"
PULUMI_NAME="pulumi-$PULUMI_VERSION"
EXTERNAL_PULUMI=""
while IFS= read -r cand; do
  [[ -n $cand ]] || continue
  real=$(readlink -f "$cand")
  case "$real" in "$FLEET_CACHE"/*) continue ;; esac
  v=$("$cand" version 2>/dev/null | tr -d '[:space:]' || true)
  if [[ $v == "$PULUMI_TAG" ]]; then
    EXTERNAL_PULUMI=$real
    break
  fi
  say "ignoring $cand: it is $v, not $PULUMI_TAG"
done < <(type -ap pulumi || true)

if [[ -n $EXTERNAL_PULUMI ]]; then
  say "using pulumi $PULUMI_TAG found on PATH: $EXTERNAL_PULUMI"
  rm -f "$BIN_DIR/pulumi"
  PULUMI_BIN=$EXTERNAL_PULUMI
  SUMMARY+=("pulumi $PULUMI_VERSION (on PATH: $EXTERNAL_PULUMI)")
else
  if cached pulumi "$PULUMI_VERSION" pulumi; then
    say "pulumi $PULUMI_VERSION cached in $TOOLCHAIN_DIR/$PULUMI_NAME"
  else
    go_setup
    # pkg/v3's go.mod points sdk/v3 at ../sdk and atotto/clipboard at a fork: require
    # both Pulumi modules at the same tag and copy pkg's non-local replace directives.
    pkg_dir=$(mod_info "github.com/pulumi/pulumi/pkg/v3@$PULUMI_TAG" | cut -d' ' -f1) ||
      die "the Go module proxy does not serve github.com/pulumi/pulumi/pkg/v3@$PULUMI_TAG"
    replaces=$(nonlocal_replaces "$pkg_dir/go.mod")
    go_build_wrapper pulumi "$PULUMI_VERSION" pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
      "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_TAG" \
      "osusergo,grpcnotrace" \
      "require (
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_TAG
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_TAG
)

$replaces" || die "building the pulumi CLI $PULUMI_TAG failed"
  fi
  PULUMI_BIN="$TOOLCHAIN_DIR/$PULUMI_NAME/pulumi"
  v=$("$PULUMI_BIN" version | tr -d '[:space:]')
  [[ $v == "$PULUMI_TAG" ]] || die "$PULUMI_BIN reports version '$v', expected $PULUMI_TAG"
  link_bin "$PULUMI_BIN"
  SUMMARY+=("pulumi $PULUMI_VERSION ($PULUMI_BIN)")
fi
PULUMI_DIR=$(dirname "$PULUMI_BIN")

# The CLI release archive also carries pulumi-resource-pulumi-nodejs (the plugin that
# runs dynamic providers); the npm package of the same release ships the same script.
if [[ ! -e $PULUMI_DIR/pulumi-resource-pulumi-nodejs ]]; then
  dyn="$TOOLCHAIN_DIR/$PULUMI_NAME/pulumi-resource-pulumi-nodejs"
  if [[ ! -x $dyn ]]; then
    mkdir -p "$(dirname "$dyn")"
    install -m 755 "$REPO_DIR/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$dyn"
  fi
  link_bin "$dyn"
fi

# ---------------------------------------------------------------------------
# 2. nodejs language host (same Pulumi release)
# ---------------------------------------------------------------------------
# Since a release between 3.68 and 3.90 the language host is a Go module of its own,
# .../sdk/nodejs/cmd/pulumi-language-nodejs/v3, which gets no release tags: the build
# uses the commit of the pkg/v3 release tag as a pseudo-version. If the module proxy
# refuses that (it does here), the newest release whose language host still lived in
# the sdk/v3 module and that the proxy serves is built instead, with a loud warning:
# 3.68.0 runs TypeScript programs of SDK 3.248 fine (checked: up, preview, refresh,
# destroy, dynamic providers), and `pulumi about` reports its real version.
# FLEET_LANGUAGE_NODEJS_FALLBACK=none turns that off.
LANG_NAME=pulumi-language-nodejs
LANG_MODULE=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
LANG_FALLBACK=${FLEET_LANGUAGE_NODEJS_FALLBACK-3.68.0}
LANG_BIN=""
LANG_VERSION=""
LANG_NOTE=""

build_language_exact() {
  local candidates=() lang_version="" hash time lang_dir="" replaces v
  if [[ -n ${FLEET_LANGUAGE_NODEJS_VERSION:-} ]]; then
    candidates=("$FLEET_LANGUAGE_NODEJS_VERSION")
  else
    # a tag of its own, should the release have one; else the release commit
    candidates=("$PULUMI_TAG")
    read -r _ hash time < <(mod_info "github.com/pulumi/pulumi/pkg/v3@$PULUMI_TAG") || return 1
    if [[ $hash != - ]]; then
      candidates+=("$(pseudo_version v3.0.0 "$hash" "$time")")
    else
      warn "the module proxy gives no commit for pkg/v3@$PULUMI_TAG"
    fi
  fi
  : >"$LOG_DIR/mod-$LANG_NAME.log"
  for v in "${candidates[@]}"; do
    lang_dir=$(mod_info "$LANG_MODULE@$v" 2>>"$LOG_DIR/mod-$LANG_NAME.log" | cut -d' ' -f1) || lang_dir=""
    if [[ -n $lang_dir ]]; then lang_version=$v; break; fi
  done
  if [[ -z $lang_dir ]]; then
    warn "the Go module proxy serves $LANG_MODULE at none of: ${candidates[*]} ($LANG_NAME $PULUMI_VERSION):"
    sed 's/^/      /' "$LOG_DIR/mod-$LANG_NAME.log" >&2 || true
    return 1
  fi
  replaces=$(nonlocal_replaces "$lang_dir/go.mod")
  go_build_wrapper "$LANG_NAME" "$PULUMI_VERSION" "$LANG_NAME" "$LANG_MODULE" \
    "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_TAG" "" \
    "require (
	$LANG_MODULE $lang_version
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_TAG
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_TAG
)

$replaces"
}

build_language_fallback() { # VERSION: build the host that sdk/v3@vVERSION contains
  local v=$1 sdk_dir replaces
  sdk_dir=$(mod_info "github.com/pulumi/pulumi/sdk/v3@v$v" | cut -d' ' -f1) || return 1
  [[ -f $sdk_dir/nodejs/cmd/pulumi-language-nodejs/main.go ]] ||
    { warn "sdk/v3@v$v has no nodejs/cmd/pulumi-language-nodejs"; return 1; }
  replaces=$(nonlocal_replaces "$sdk_dir/go.mod")
  go_build_wrapper "$LANG_NAME" "$v" "$LANG_NAME" \
    github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
    "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v" "" \
    "require github.com/pulumi/pulumi/sdk/v3 v$v

$replaces"
}

if [[ -n $EXTERNAL_PULUMI && -x $PULUMI_DIR/$LANG_NAME ]]; then
  LANG_BIN="$PULUMI_DIR/$LANG_NAME"
  LANG_VERSION=$PULUMI_VERSION
  rm -f "$BIN_DIR/$LANG_NAME"
  say "using $LANG_BIN (ships with the pulumi found on PATH)"
elif cached "$LANG_NAME" "$PULUMI_VERSION" "$LANG_NAME"; then
  LANG_BIN="$TOOLCHAIN_DIR/$LANG_NAME-$PULUMI_VERSION/$LANG_NAME"
  LANG_VERSION=$PULUMI_VERSION
  say "$LANG_NAME $PULUMI_VERSION cached"
else
  go_setup
  if build_language_exact; then
    LANG_BIN="$TOOLCHAIN_DIR/$LANG_NAME-$PULUMI_VERSION/$LANG_NAME"
    LANG_VERSION=$PULUMI_VERSION
  elif [[ -n $LANG_FALLBACK && $LANG_FALLBACK != none ]]; then
    if cached "$LANG_NAME" "$LANG_FALLBACK" "$LANG_NAME" || build_language_fallback "$LANG_FALLBACK"; then
      LANG_BIN="$TOOLCHAIN_DIR/$LANG_NAME-$LANG_FALLBACK/$LANG_NAME"
      LANG_VERSION=$LANG_FALLBACK
      LANG_NOTE="FALLBACK: $PULUMI_VERSION is not obtainable"
      warn "**************************************************************************"
      warn "using $LANG_NAME $LANG_FALLBACK, NOT $PULUMI_VERSION: the module proxy does"
      warn "not serve the $PULUMI_VERSION language host (see above). Set"
      warn "FLEET_LANGUAGE_NODEJS_VERSION to a served version of $LANG_MODULE to retry."
      warn "**************************************************************************"
    fi
  fi
fi
if [[ -n $LANG_BIN ]]; then
  if [[ $LANG_BIN == "$TOOLCHAIN_DIR"/* ]]; then
    # The engine looks for language hosts next to the (symlink-resolved) pulumi binary
    # first, and warns "using ... from $PATH" when the one on PATH is another file: so
    # put the host (a hard link, or for the fallback a wrapper) next to pulumi and point
    # the PATH link at that. The fallback host takes the project's runtime options as flags,
    # which this CLI sends over RPC instead, so it would load ts-node although Pulumi.yaml
    # says `typescript: false` (0.4 s of every program run): its wrapper passes that option
    # as the host's flag.
    if [[ $PULUMI_DIR == "$TOOLCHAIN_DIR"/* && $LANG_VERSION != "$PULUMI_VERSION" ]]; then
      rm -f "$PULUMI_DIR/$LANG_NAME"
      cat >"$PULUMI_DIR/$LANG_NAME" <<WRAPPER
#!/bin/sh
# $LANG_NAME $LANG_FALLBACK for pulumi $PULUMI_VERSION (scripts/toolchain.sh): the project's
# runtime option \`typescript: false\` (Pulumi.yaml, in the directory the host starts in) as its flag.
if grep -Eq '^[[:space:]]+typescript:[[:space:]]*false' Pulumi.yaml 2>/dev/null; then
  exec "$LANG_BIN" -typescript=false "\$@"
fi
exec "$LANG_BIN" "\$@"
WRAPPER
      chmod 755 "$PULUMI_DIR/$LANG_NAME"
      link_bin "$PULUMI_DIR/$LANG_NAME"
    elif [[ $PULUMI_DIR == "$TOOLCHAIN_DIR"/* ]]; then
      ln -f "$LANG_BIN" "$PULUMI_DIR/$LANG_NAME" 2>/dev/null || cp -f "$LANG_BIN" "$PULUMI_DIR/$LANG_NAME"
      link_bin "$PULUMI_DIR/$LANG_NAME"
    else
      link_bin "$LANG_BIN"
    fi
  fi
  SUMMARY+=("$LANG_NAME $LANG_VERSION ($LANG_BIN)${LANG_NOTE:+ $LANG_NOTE}")
else
  rm -f "$BIN_DIR/$LANG_NAME"
  [[ $PULUMI_DIR == "$TOOLCHAIN_DIR"/* ]] && rm -f "$PULUMI_DIR/$LANG_NAME"
  warn "without $LANG_NAME, 'pulumi preview/up' of a nodejs project fails (no language plugin found)"
  MISSING+=("$LANG_NAME $PULUMI_VERSION")
  SUMMARY+=("$LANG_NAME $PULUMI_VERSION MISSING")
fi

# ---------------------------------------------------------------------------
# 3. resource plugins
# ---------------------------------------------------------------------------
# register_plugin NAME VERSION BINARY : make `pulumi plugin ls` and the engine see it
register_plugin() {
  local name=$1 version=$2 bin=$3 home dir
  home=${PULUMI_HOME:-$HOME/.pulumi}
  dir="$home/plugins/resource-$name-v$version"
  if [[ -f $dir/pulumi-resource-$name && ! -e $dir.partial ]] && cmp -s "$bin" "$dir/pulumi-resource-$name"; then
    return 0
  fi
  say "registering resource plugin $name $version in $home/plugins"
  "$PULUMI_BIN" plugin install resource "$name" "$version" --file "$bin" --reinstall >"$LOG_DIR/plugin-install-$name.log" 2>&1 || {
    cat "$LOG_DIR/plugin-install-$name.log" >&2
    die "pulumi plugin install resource $name $version --file $bin failed"
  }
}

# verify_provider NAME VERSION BINARY : the plugin must start and report NAME and VERSION
# in its schema (that is where the -X version stamp shows). Done once per binary.
verify_provider() {
  local name=$1 version=$2 bin=$3 got
  [[ -f $bin.verified && $bin.verified -nt $bin ]] && return 0
  got=$("$PULUMI_BIN" package get-schema "$bin" 2>"$LOG_DIR/schema-$name.log" | node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log(s.name + " " + String(s.version || "").replace(/^v/, ""));') ||
    { cat "$LOG_DIR/schema-$name.log" >&2; die "$bin does not serve its schema"; }
  if [[ $got == "$name " ]]; then
    warn "$(basename "$bin") starts, but its schema carries no version to check against $version"
  else
    [[ $got == "$name $version" ]] || die "$bin reports '$got', expected '$name $version' (version stamp?)"
    say "checked: $(basename "$bin") starts and reports $name $version"
  fi
  touch "$bin.verified"
}

# provide_provider NAME VERSION BUILD_FN : cache check, build, link, register
provide_provider() {
  local name=$1 version=$2 build_fn=$3 optional=${4:-} binary="pulumi-resource-$1"
  local pdir="$TOOLCHAIN_DIR/$binary-$version"
  if cached "$binary" "$version" "$binary"; then
    say "$binary $version cached"
  elif ! "$build_fn" "$version"; then
    if [[ -n $optional ]]; then
      SUMMARY+=("$binary $version not available ($optional)")
    else
      MISSING+=("$binary $version")
      SUMMARY+=("$binary $version MISSING")
    fi
    return 0
  fi
  verify_provider "$name" "$version" "$pdir/$binary"
  register_plugin "$name" "$version" "$pdir/$binary"
  if [[ ${FLEET_TOOLCHAIN_LINK_PROVIDERS:-0} == 1 ]]; then
    link_bin "$pdir/$binary"
  else
    rm -f "$BIN_DIR/$binary"
  fi
  SUMMARY+=("$binary $version ($pdir/$binary, plugin cache ${PULUMI_HOME:-$HOME/.pulumi}/plugins)")
}

# --- docker-build -----------------------------------------------------------
# Its provider package imports the Java and .NET code generators only to fill the
# Java/C# sections of the schema's language metadata (PackageInfo structs). The
# module proxy here serves neither github.com/pulumi/pulumi-java nor
# pulumi-dotnet/pulumi-language-dotnet at the required versions, so the build
# replaces both with tiny local modules that declare just those two structs. No
# resource behaviour depends on them; only `pulumi package get-schema` output does.
docker_build_stubs() {
  local w=$1
  mkdir -p "$w/stubs/java/pkg/codegen/java" "$w/stubs/dotnet/codegen"
  printf 'module github.com/pulumi/pulumi-java\n\ngo 1.21\n' >"$w/stubs/java/go.mod"
  cat >"$w/stubs/java/pkg/codegen/java/package_info.go" <<'EOF'
// Package java stands in for the Java code generator: fleet's toolchain script only
// needs the type the docker-build provider uses for its schema metadata.
package java

type PackageInfo struct {
	Packages                        map[string]string `json:"packages,omitempty"`
	BasePackage                     string            `json:"basePackage,omitempty"`
	BuildFiles                      string            `json:"buildFiles,omitempty"`
	Dependencies                    map[string]string `json:"dependencies,omitempty"`
	GradleNexusPublishPluginVersion string            `json:"gradleNexusPublishPluginVersion,omitempty"`
	GradleTest                      string            `json:"gradleTest,omitempty"`
}
EOF
  printf 'module github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3\n\ngo 1.21\n' >"$w/stubs/dotnet/go.mod"
  cat >"$w/stubs/dotnet/codegen/package_info.go" <<'EOF'
// Package codegen stands in for the .NET code generator: fleet's toolchain script
// only needs the type the docker-build provider uses for its schema metadata.
package codegen

type CSharpPackageInfo struct {
	PackageReferences    map[string]string `json:"packageReferences,omitempty"`
	Namespaces           map[string]string `json:"namespaces,omitempty"`
	RootNamespace        string            `json:"rootNamespace,omitempty"`
	RespectSchemaVersion bool              `json:"respectSchemaVersion,omitempty"`
}
EOF
}
build_docker_build() {
  local version=$1 tag="v$1" mod=github.com/pulumi/pulumi-docker-build dir
  go_setup
  dir=$(mod_info "$mod@$tag" | cut -d' ' -f1) || {
    warn "the Go module proxy does not serve $mod@$tag"
    return 1
  }
  # any non-local replace of the provider's own go.mod is carried over
  local replaces
  replaces=$(nonlocal_replaces "$dir/go.mod")
  STUBS_FN=docker_build_stubs go_build_wrapper pulumi-resource-docker-build "$version" \
    pulumi-resource-docker-build "$mod/provider/cmd/pulumi-resource-docker-build" \
    "-s -w -X $mod/provider.Version=$tag" "" \
    "require $mod $tag

replace github.com/pulumi/pulumi-java => ./stubs/java
replace github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3 => ./stubs/dotnet
$replaces"
}

# --- command ----------------------------------------------------------------
# The repository's root module (tagged v1.2.1) is a stub; the provider is the
# nested module .../pulumi-command/provider, which has no tags of its own: use the
# commit of the release tag as a pseudo-version.
build_command() {
  local version=$1 tag="v$1" root=github.com/pulumi/pulumi-command mod dir hash time pv
  mod=$root/provider
  go_setup
  pv=${FLEET_COMMAND_PROVIDER_MODULE_VERSION:-}
  if [[ -z $pv ]]; then
    read -r _ hash time < <(mod_info "$root@$tag") || {
      warn "the Go module proxy does not serve $root@$tag"
      return 1
    }
    [[ $hash != - ]] || {
      warn "no commit known for $root@$tag; set FLEET_COMMAND_PROVIDER_MODULE_VERSION"
      return 1
    }
    pv=$(pseudo_version v0.0.0 "$hash" "$time")
  fi
  if ! dir=$(mod_info "$mod@$pv" 2>"$LOG_DIR/mod-command.log" | cut -d' ' -f1) || [[ -z $dir ]]; then
    warn "the Go module proxy does not serve $mod@$pv (the provider of command $tag):"
    sed 's/^/    /' "$LOG_DIR/mod-command.log" >&2 || true
    warn "command.local.Command resources cannot be created without pulumi-resource-command." \
      "If another version of that module is served, set FLEET_COMMAND_PROVIDER_MODULE_VERSION and rerun."
    return 1
  fi
  local replaces
  replaces=$(nonlocal_replaces "$dir/go.mod")
  go_build_wrapper pulumi-resource-command "$version" pulumi-resource-command \
    "$mod/cmd/pulumi-resource-command" "-s -w -X $mod/pkg/version.Version=$tag" "" \
    "require $mod $pv

$replaces"
}

# --- docker (Terraform-bridged; built by its own script) -------------------
DOCKER_SCRIPT="$SCRIPT_DIR/toolchain/build-docker-provider.sh"
build_docker() {
  local version=$1 out="$TOOLCHAIN_DIR/pulumi-resource-docker-$1/pulumi-resource-docker"
  local log="$LOG_DIR/build-pulumi-resource-docker-$1.log" t=$SECONDS
  mkdir -p "$(dirname "$out")"
  say "building pulumi-resource-docker $version with ${DOCKER_SCRIPT#"$REPO_DIR"/} (log: $log)"
  if ! bash "$DOCKER_SCRIPT" "$version" "$out.new" >"$log" 2>&1; then
    tail -n 25 "$log" >&2
    rm -f "$out.new"
    warn "${DOCKER_SCRIPT#"$REPO_DIR"/} $version failed"
    return 1
  fi
  [[ -s $out.new ]] || { warn "${DOCKER_SCRIPT#"$REPO_DIR"/} wrote no $out.new"; return 1; }
  chmod 755 "$out.new"
  mv -f "$out.new" "$out"
  say "built pulumi-resource-docker $version in $((SECONDS - t)) s"
}

provide_provider docker-build "$DOCKER_BUILD_VERSION" build_docker_build
# The program registers no command resources today (its canary is a dynamic resource), so the
# engine never loads this plugin: it is provided where it can be built and not required.
provide_provider command "$COMMAND_VERSION" build_command "optional: the fleet program uses no command resources"
if [[ -f $DOCKER_SCRIPT ]] || cached pulumi-resource-docker "$DOCKER_VERSION" pulumi-resource-docker; then
  provide_provider docker "$DOCKER_VERSION" build_docker
else
  warn "${DOCKER_SCRIPT#"$REPO_DIR"/} does not exist yet: pulumi-resource-docker $DOCKER_VERSION skipped"
  SUMMARY+=("pulumi-resource-docker $DOCKER_VERSION SKIPPED (no ${DOCKER_SCRIPT#"$REPO_DIR"/})")
fi

register_policy_analyzer "$PULUMI_BIN"
SUMMARY+=("pulumi-analyzer-policy-fleet-node ($POLICY_ANALYZER, plugin cache): runs policy/ with node")

# ---------------------------------------------------------------------------
# 4. check what PATH now resolves, and summarize
# ---------------------------------------------------------------------------
hash -r
resolved=$(command -v pulumi || true)
[[ $(readlink -f "$resolved") == "$(readlink -f "$PULUMI_BIN")" ]] ||
  warn "'pulumi' on PATH is $resolved, not $PULUMI_BIN (source scripts/env.sh first)"

echo
echo "fleet toolchain ($((SECONDS - T0)) s), binaries linked in $BIN_DIR:"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
echo "  use it with: source scripts/env.sh"
status="ok"
((${#MISSING[@]})) && status="INCOMPLETE, missing: $(IFS=,; echo "${MISSING[*]}")"
[[ -n $LANG_NOTE ]] && status="$status; pulumi-language-nodejs is $LANG_VERSION ($LANG_NOTE)"
printf 'compiled\n' >"$MODE_FILE"
echo "fleet toolchain: pulumi $PULUMI_VERSION, pulumi-language-nodejs ${LANG_VERSION:-MISSING}, docker-build $DOCKER_BUILD_VERSION, command $COMMAND_VERSION, docker $DOCKER_VERSION: $status"
if ((${#MISSING[@]})); then
  [[ ${FLEET_TOOLCHAIN_ALLOW_MISSING:-0} == 1 ]] && exit 0
  exit 1
fi
