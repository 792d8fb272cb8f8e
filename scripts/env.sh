# Source this file: it puts fleet's tools on PATH and chooses the Pulumi backend by the rule every
# fleet command follows too (cli/pulumi.ts fleetEnv; test/unit/backend.test.ts checks they agree):
#   1. PULUMI_BACKEND_URL, if set;
#   2. else the backend the Pulumi CLI is logged into (`pulumi login URL` writes it as "current" in
#      ${PULUMI_HOME:-~/.pulumi}/credentials.json; `pulumi whoami -v` prints it): left to the CLI;
#   3. else, only with the compiled toolchain (`npm run toolchain` on a machine without downloads),
#      fleet's own file backend file://$FLEET_CACHE/state, with an empty passphrase.
# With a Pulumi CLI installed the usual way (toolchain.mode says "installed") and no login, nothing
# is set: the CLI asks you to `pulumi login`, as usual. The compiled toolchain also turns plugin
# acquisition and update checks off. Every value can be overridden by setting it before sourcing.
export FLEET_CACHE="${FLEET_CACHE:-$HOME/.cache/fleet}"

# The "current" backend of the CLI's credentials file, or nothing (no file, never logged in).
_fleet_logged_into() {
  local v
  v=$(grep -o '"current"[[:space:]]*:[[:space:]]*"\([^"\\]\|\\.\)*"' "${PULUMI_HOME:-$HOME/.pulumi}/credentials.json" 2>/dev/null | head -n 1)
  v=${v#*:}
  v=${v#*\"}
  v=${v%\"}
  # The JSON escapes Go writes in a URL.
  v=${v//\\u0026/&}
  v=${v//\\u003c/<}
  v=${v//\\u003e/>}
  v=${v//\\\"/\"}
  v=${v//\\\\/\\}
  printf '%s' "$v"
}

if [[ $(cat "$FLEET_CACHE/toolchain.mode" 2>/dev/null) == installed* ]]; then
  # Last on PATH: the installed pulumi comes first; docker, buildctl and buildkitd are found here.
  export PATH="$PATH:$FLEET_CACHE/bin"
else
  export PATH="$FLEET_CACHE/bin:$PATH"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
  if [[ -z ${PULUMI_BACKEND_URL:-} && -z $(_fleet_logged_into) ]]; then
    export PULUMI_BACKEND_URL="file://$FLEET_CACHE/state"
  fi
  # Only fleet's own backend has the empty passphrase; another file backend keeps yours.
  if [[ ${PULUMI_BACKEND_URL:-} == "file://$FLEET_CACHE/state" ]]; then
    export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
    mkdir -p "$FLEET_CACHE/state" 2>/dev/null || true
  fi
fi
unset -f _fleet_logged_into
mkdir -p "$FLEET_CACHE/bin" 2>/dev/null || true
