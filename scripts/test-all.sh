#!/usr/bin/env bash
# Every test of the project, in order: unit (no engine), then the real Docker engine, then the
# real Pulumi engine. Each suite's counts are added up; the last line is "N passed, N failed".
#   npm run test:all
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
log_dir="$FLEET_CACHE/log"
mkdir -p "$log_dir"
passed=0 failed=0 broken=()

# run_suite NAME COMMAND...: runs a mocha suite, echoes its output, adds its counts.
run_suite() {
  local name=$1; shift
  local out="$log_dir/test-$name.log" start=$SECONDS
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  local p f
  p=$(grep -Eo '^ +[0-9]+ passing' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  f=$(grep -Eo '^ +[0-9]+ failing' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  passed=$((passed + p)); failed=$((failed + f))
  if ((rc != 0 && f == 0)); then failed=$((failed + 1)); broken+=("$name (exit $rc)"); fi
  echo "=== $name: $p passed, $f failed, exit $rc, $((SECONDS - start))s"
}

# run_step NAME COMMAND...: a set-up step; its failure counts as one failed test and stops the run.
run_step() {
  local name=$1; shift
  echo "=== $name: $*"
  local start=$SECONDS
  if ! "$@"; then
    failed=$((failed + 1)); broken+=("$name")
    echo "=== $name failed after $((SECONDS - start))s"
    return 1
  fi
  echo "=== $name: done in $((SECONDS - start))s"
}

# The tests never touch the fleet a user runs: the local stack's containers (if it is up) must
# keep their IDs through the whole run.
local_fleet() { docker ps --filter label=dev.fleet.stack=local --format '{{.Names}} {{.ID}}' 2>/dev/null | sort; }
fleet_before=$(local_fleet)

# Pulumi runs the program transpile-only (tsconfig.json "ts-node"), so type errors are caught here.
run_step typecheck npx tsc --noEmit -p . || true

# scan_test_db: builds the test vulnerability database and exports FLEET_SCAN_DB_DIR to the suites.
scan_test_db() {
  FLEET_SCAN_DB_DIR=$(bash scripts/scan-test-db.sh "$FLEET_CACHE/trivy-test") && export FLEET_SCAN_DB_DIR
}

run_suite unit npx mocha
# The vulnerability gate scans every new digest that a suite deploys; Trivy's public database
# cannot be downloaded here, so every stack scans with one built from the advisories in
# test/fixtures/supply (see README, "Supply chain").
if run_step infra bash scripts/infra.sh && run_step toolchain bash scripts/toolchain.sh &&
  run_step supply-tools bash scripts/supply-tools.sh && run_step scan-test-db scan_test_db; then
  run_suite lint npx mocha --config .mocharc.lint.json
  run_suite images npx mocha --config .mocharc.images.json
  run_suite e2e npx mocha --config .mocharc.e2e.json
fi

fleet_after=$(local_fleet)
if [[ $fleet_before == "$fleet_after" ]]; then
  passed=$((passed + 1))
  echo "=== isolation: the local fleet's $(grep -c . <<<"$fleet_before") running containers kept their IDs"
else
  failed=$((failed + 1)); broken+=("isolation")
  printf '=== isolation: the local fleet changed during the tests
--- before
%s
--- after
%s
' "$fleet_before" "$fleet_after"
fi

((${#broken[@]})) && echo "failed steps: ${broken[*]}"
echo "Tests: $passed passed, $failed failed"
((failed == 0))
