# Source this file: it puts fleet's toolchain on PATH and points Pulumi at a local file backend.
# Every value can be overridden by setting it before sourcing.
export FLEET_CACHE="${FLEET_CACHE:-$HOME/.cache/fleet}"
export PATH="$FLEET_CACHE/bin:$PATH"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$FLEET_CACHE/state}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
mkdir -p "$FLEET_CACHE/bin" "${PULUMI_BACKEND_URL#file://}" 2>/dev/null || true
