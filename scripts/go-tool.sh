#!/usr/bin/env bash
# Compiles a Go command from its module, once, into $FLEET_CACHE/toolchain/NAME-VERSION/, and
# prints the path of the binary. A second call with the same name and version prints the cached
# path at once.
#   bash scripts/go-tool.sh NAME MODULE VERSION PACKAGE [LDFLAGS]
#   bash scripts/go-tool.sh actionlint github.com/rhysd/actionlint v1.7.12 ./cmd/actionlint
# The module's source is copied out of the module cache and built inside that copy, so its own
# go.mod (replace and exclude directives included) is honoured, which `go install pkg@version`
# refuses to do. Progress goes to stderr; the build log to $FLEET_CACHE/log/build-NAME-VERSION.log.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

(($# >= 4)) || { echo "usage: go-tool.sh NAME MODULE VERSION PACKAGE [LDFLAGS]" >&2; exit 2; }
name=$1 module=$2 version=$3 package=$4 ldflags=${5:-"-s -w"}
dest="$FLEET_CACHE/toolchain/$name-$version"
bin="$dest/$name"
if [[ -x $bin && -s $bin ]]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { [[ -x /usr/local/go/bin/go ]] && export PATH="$PATH:/usr/local/go/bin"; }
command -v go >/dev/null || { echo "go-tool.sh: go is needed to compile $name $version" >&2; exit 1; }
log="$FLEET_CACHE/log/build-$name-$version.log"
mkdir -p "$FLEET_CACHE/log" "$FLEET_CACHE/toolchain"
goenv=(env CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -modcacherw"
  GOMODCACHE="$FLEET_CACHE/go/mod" GOCACHE="$FLEET_CACHE/go/cache")
work=$(mktemp -d "$FLEET_CACHE/toolchain/.$name-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "go-tool: compiling $name $version from $module (log: $log)" >&2
start=$SECONDS
if ! {
  src=$("${goenv[@]}" go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') &&
    [[ -n $src && -f $src/go.mod ]] &&
    cp -r "$src" "$work/src" && chmod -R u+w "$work/src" &&
    (cd "$work/src" && nice -n 10 "${goenv[@]}" go build -mod=mod -trimpath -ldflags "$ldflags" -o "$work/$name" "$package")
} >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "go-tool: compiling $name $version failed" >&2
  exit 1
fi
mkdir -p "$dest"
mv -f "$work/$name" "$bin"
chmod 755 "$bin"
echo "go-tool: $name $version compiled in $((SECONDS - start)) s" >&2
echo "$bin"
