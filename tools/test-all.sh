#!/usr/bin/env bash
# Sets up this machine and runs every check and test of the repository: the README's one command.
#
#   bash tools/test-all.sh            (as root: it installs and starts Docker and RabbitMQ)
#
# Steps: services up -> npm ci -> build, lint, unit tests -> nx sync:check -> integration tests ->
# summary. A failing step does not stop the run, so every result is collected; the exit status is
# non-zero if any step or test failed. The last line printed is the summary from tools/ci/summary.mjs.
#
# KRAKEN_SKIP_INSTALL=1      skip `npm ci` (use the node_modules already there)
# KRAKEN_TEST_RESULTS_DIR    where jest writes its counts (default test-output/results); another
#                            directory keeps jest runs outside this one from mixing into its summary
set -uo pipefail

cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true
# absolute: Nx runs each jest in its project's directory
RESULTS_DIR=$(realpath -m "${KRAKEN_TEST_RESULTS_DIR:-test-output/results}")
export KRAKEN_TEST_RESULTS_DIR=$RESULTS_DIR
LOG_DIR=test-output/logs

log() { echo "[test-all $(date +%T)] $*" >&2; }
now_ms() { date +%s%3N; }
since() { local d=$(( $(now_ms) - $1 )); printf '%d.%ds' $(( d / 1000 )) $(( d % 1000 / 100 )); }

summary_args=()
any_failed=0

# run_step LABEL CMD...: a step outside Nx; its failure is one failure in the summary
run_step() {
  local label=$1 t0 rc=0
  shift
  t0=$(now_ms)
  log "$label ..."
  "$@" || rc=$?
  if [ "$rc" = 0 ]; then
    log "$label: ok in $(since "$t0")"
  else
    log "$label: FAILED (exit $rc) in $(since "$t0")"
    summary_args+=(--failed-step "$label (exit $rc)")
    any_failed=1
  fi
}

# run_nx LABEL LOGNAME NX-ARGS...: an `nx run-many`; the summary counts the tasks its log names as
# failed or not run (test tasks through their jest results, so nothing is counted twice)
run_nx() {
  local label=$1 logfile="$LOG_DIR/$2.log" t0 rc=0
  shift 2
  t0=$(now_ms)
  log "$label ..."
  npx nx "$@" --outputStyle=static-failures-only 2>&1 | tee "$logfile" || rc=$?
  if [ "$rc" = 0 ]; then
    log "$label: ok in $(since "$t0")"
  else
    log "$label: FAILED (exit $rc) in $(since "$t0"), log: $logfile"
    summary_args+=(--nx-log "$logfile")
    any_failed=1
  fi
}

started=$(now_ms)
mkdir -p "$LOG_DIR"
run_step "services up" bash tools/services/services.sh up
# the deployer and worker integration tests build apps on these registry-free base images
run_step "base images" bash dockerfiles/build-base-images.sh
if [ "${KRAKEN_SKIP_INSTALL:-}" = 1 ]; then
  log "npm ci skipped (KRAKEN_SKIP_INSTALL=1)"
else
  run_step "npm ci" npm ci --prefer-offline --no-audit --no-fund
fi
# results of an earlier run must not count in this one
rm -f "$RESULTS_DIR"/*.json
run_nx "build, lint, unit tests" build-lint-test run-many -t build lint test --skip-nx-cache
run_step "nx sync:check" npx nx sync:check
# one project at a time: integration suites share RabbitMQ, Docker and the machine's two cores
run_nx "integration tests" integration run-many -t integration --parallel=1 --skip-nx-cache
log "all steps done in $(since "$started")"

summary_rc=0
node tools/ci/summary.mjs --results "$RESULTS_DIR" "${summary_args[@]}" || summary_rc=$?
if [ "$any_failed" != 0 ] || [ "$summary_rc" != 0 ]; then exit 1; fi
exit 0
