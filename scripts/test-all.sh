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

# One run at a time on a machine: the suites' engines, addresses, ports and the home rehearsal's
# registry name are fixed, so a second run waits for the first instead of breaking it.
mkdir -p /run/lock
exec 9>/run/lock/fleet-test-all.lock
if ! flock -n 9; then
  echo "=== another test:all runs on this machine (pid $(cat /run/lock/fleet-test-all.pid 2>/dev/null || echo '?')); waiting for it"
  flock 9
fi
echo $$ >/run/lock/fleet-test-all.pid

# tally NAME RC SECONDS: adds the counts of a finished suite's log to the totals.
tally() {
  local name=$1 rc=$2 seconds=$3 out="$log_dir/test-$1.log" p f s
  p=$(grep -Eo '^ +[0-9]+ passing' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  f=$(grep -Eo '^ +[0-9]+ failing' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  s=$(grep -Eo '^ +[0-9]+ pending' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  passed=$((passed + p)); failed=$((failed + f))
  if ((rc != 0 && f == 0)); then failed=$((failed + 1)); broken+=("$name (exit $rc)"); fi
  echo "=== $name: $p passed, $f failed, $s skipped, exit $rc, ${seconds}s"
}

# run_suite NAME COMMAND...: runs a mocha suite, echoes its output, adds its counts.
run_suite() {
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$log_dir/test-$name.log"
  tally "$name" "${PIPESTATUS[0]}" $((SECONDS - start))
}

# run_suites_together NAME "FILES" NAME "FILES"...: e2e suite groups side by side (each suite has
# its own engine, stack, registry path and address; much of their time is waiting on health
# checks), then each group's output and counts in turn.
run_suites_together() {
  local start=$SECONDS names=()
  while (($#)); do
    local name=$1 files=$2; shift 2
    names+=("$name")
    echo "=== $name: $files"
    # shellcheck disable=SC2086
    (npx mocha --no-config -r ts-node/register/transpile-only --extension ts --timeout 3600000 $files >"$log_dir/test-$name.log" 2>&1
      echo $? >"$log_dir/test-$name.rc") &
  done
  wait
  for name in "${names[@]}"; do
    cat "$log_dir/test-$name.log"
    tally "$name" "$(cat "$log_dir/test-$name.rc" 2>/dev/null || echo 1)" $((SECONDS - start))
  done
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
  e2e_a="test/e2e/faults.test.ts test/e2e/gpu-preflight.test.ts test/e2e/local.test.ts test/e2e/review.test.ts test/e2e/rollback.test.ts test/e2e/supply.test.ts"
  # The images suite (test/images, stack images), then the home rehearsal (two machines, their
  # setup, the workflows; the longest suite), beside the other e2e suites: two groups at a time.
  e2e_b="$(ls test/images/*.test.ts | tr '\n' ' ')test/e2e/home.test.ts"
  if [[ $(tr ' ' '\n' <<<"$e2e_a $e2e_b" | grep . | sort) != "$(ls test/e2e/*.test.ts test/images/*.test.ts | sort)" ]]; then
    failed=$((failed + 1)); broken+=("e2e groups")
    echo "=== e2e: the groups in scripts/test-all.sh do not list exactly the suites in test/e2e"
  fi
  run_suites_together e2e-a "$e2e_a" e2e-b "$e2e_b"
fi

fleet_after=$(local_fleet)
if [[ -z $fleet_before ]]; then
  echo "=== isolation: not checked (no local fleet was running; \`npm run up\` starts one)"
elif [[ $fleet_before == "$fleet_after" ]]; then
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
