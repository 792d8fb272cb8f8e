# Source this file: it puts fleet's tools on PATH and, when the toolchain is the compiled one
# (`npm run toolchain` on a machine without downloads), points Pulumi at a local file backend with
# plugin acquisition off. With a Pulumi CLI installed the usual way (toolchain.mode says
# "installed"), the backend (`pulumi login`: Pulumi Cloud, a bucket, file://...) and plugin
# downloads are the user's: nothing is forced. Every value can be overridden by setting it before
# sourcing.
export FLEET_CACHE="${FLEET_CACHE:-$HOME/.cache/fleet}"
if [[ $(cat "$FLEET_CACHE/toolchain.mode" 2>/dev/null) == installed* ]]; then
  # Last on PATH: the installed pulumi comes first; docker, buildctl and buildkitd are found here.
  export PATH="$PATH:$FLEET_CACHE/bin"
else
  export PATH="$FLEET_CACHE/bin:$PATH"
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$FLEET_CACHE/state}"
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
  mkdir -p "${PULUMI_BACKEND_URL#file://}" 2>/dev/null || true
fi
mkdir -p "$FLEET_CACHE/bin" 2>/dev/null || true
