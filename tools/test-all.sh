#!/usr/bin/env bash
# Sets up this machine and runs every check and test of the repository: the README's one command.
#
#   bash tools/test-all.sh            (as root: it installs and starts Docker and RabbitMQ)
#
# Steps: services up -> base images -> [Node KRAKEN_NODE] -> npm ci -> build, lint, unit tests ->
# nx sync:check -> integration tests -> every bench in smoke mode -> summary. A failing step does
# not stop the run, so every result is collected; the exit status is non-zero if any step or test
# failed. The last line printed is the summary from tools/ci/summary.mjs; the lines above it name
# every failure and every bench's ratio.
#
# KRAKEN_SKIP_INSTALL=1      skip `npm ci` (use the node_modules already there)
# KRAKEN_TEST_RESULTS_DIR    where jest writes its counts (default test-output/results); another
#                            directory keeps jest runs outside this one from mixing into its summary
# KRAKEN_NODE=24             run npm ci, builds, tests and benches on that Node major from the npm
#                            registry (tools/node/use-node.sh); the base images still copy the
#                            machine's own node, which the app templates expect
# KRAKEN_LIVE_KRAKEN=1       run the whole suite beside a live Kraken (tools/ci/live-kraken.sh: the
#                            README's first command in a clone of HEAD, temporary data dir, port 4000
#                            when free): it must serve its example app before the suite and still do
#                            so after it (one step in the summary), then it is stopped
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
  return "$rc"
}

# run_checked LABEL CMD...: like run_step, but a pass counts too (one pass or one failure)
run_checked() {
  local label=$1
  if run_step "$@"; then summary_args+=(--passed-step "$label"); fi
}

# run_bench NAME: tools/bench/NAME/run.mjs --smoke, one pass (labelled with the ratios it printed)
# or one failure naming the bench
run_bench() {
  local name=$1 logfile="$LOG_DIR/bench-$1.log" t0 rc=0 ratios
  t0=$(now_ms)
  log "bench $name --smoke ..."
  node "tools/bench/$name/run.mjs" --smoke </dev/null 2>&1 | tee "$logfile" || rc=$?
  ratios=$(sed -n 's/^ratio //p' "$logfile" | paste -sd ';' - | sed 's/;/; /g')
  if [ "$rc" = 0 ] && [ -z "$ratios" ]; then
    log "bench $name: FAILED in $(since "$t0"): it printed no ratio line, log: $logfile"
    summary_args+=(--failed-step "bench $name (printed no ratio)")
    any_failed=1
  elif [ "$rc" = 0 ]; then
    log "bench $name: ok in $(since "$t0"); ratio $ratios"
    summary_args+=(--passed-step "bench $name: ratio $ratios")
  else
    log "bench $name: FAILED (exit $rc) in $(since "$t0"), log: $logfile"
    summary_args+=(--failed-step "bench $name (exit $rc)")
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
# the deployer and worker integration tests build apps on these registry-free base images; they
# copy the machine's own node (kraken-base/node:<its major>), so they are built before KRAKEN_NODE
run_step "base images" bash dockerfiles/build-base-images.sh
machine_path=$PATH
if [ -n "${KRAKEN_NODE:-}" ]; then
  # shellcheck source=node/use-node.sh
  source tools/node/use-node.sh
  run_step "Node $KRAKEN_NODE from the npm registry" use_node "$KRAKEN_NODE"
fi
log "node $(node --version) ($(command -v node)), npm $(npm --version)"

live_pid=
if [ "${KRAKEN_LIVE_KRAKEN:-}" = 1 ]; then
  # stopped before the summary, or here if this script is interrupted (it runs in its own session)
  trap 'bash tools/ci/live-kraken.sh stop >>"$LOG_DIR/live-kraken-stop.log" 2>&1 || true' EXIT
  trap 'exit 130' INT TERM
  # it installs and builds in its own clone while this checkout does the same
  log "live Kraken: starting tools/run-kraken.sh in a clone of HEAD (log: $LOG_DIR/live-kraken-start.log)"
  KRAKEN_LIVE_PATH=$machine_path bash tools/ci/live-kraken.sh start >"$LOG_DIR/live-kraken-start.log" 2>&1 &
  live_pid=$!
fi

if [ "${KRAKEN_SKIP_INSTALL:-}" = 1 ]; then
  log "npm ci skipped (KRAKEN_SKIP_INSTALL=1)"
else
  run_step "npm ci" npm ci --prefer-offline --no-audit --no-fund
fi
if [ -n "$live_pid" ]; then
  live_up() {
    local rc=0
    wait "$live_pid" || rc=$?
    tail -n 1 "$LOG_DIR/live-kraken-start.log" >&2
    [ "$rc" = 0 ] || tail -n 40 "$LOG_DIR/live-kraken-start.log" >&2
    return "$rc"
  }
  run_step "live Kraken up before the suite (tools/run-kraken.sh, its example app answering)" live_up
fi
# results of an earlier run must not count in this one
rm -f "$RESULTS_DIR"/*.json
run_nx "build, lint, unit tests" build-lint-test run-many -t build lint test --skip-nx-cache
run_step "nx sync:check" npx nx sync:check
# an export nothing imports is dead code or a leftover (knip.json; a package's index.ts is its public API)
run_step "knip: no unused exports" npx knip
# the packages' suites two projects at a time: each keeps to its own vhost, queues, containers,
# ports and RabbitMQ nodes. The apps' suites (whole agents, a browser) and the cluster suites of
# tools/ (netns hosts, failure detectors, leader elections, chaos) then run one at a time: they
# judge timing and would judge the other suites' load too.
run_nx "integration tests (packages)" integration-packages run-many -t integration --exclude tools,agent,ui --parallel=2 --skip-nx-cache
run_nx "integration tests (agents, browser, clusters)" integration-apps run-many -t integration -p agent,ui,tools --parallel=1 --skip-nx-cache
# benches run the built packages: each proves it still works end to end and prints its ratio
for bench in tools/bench/*/run.mjs; do
  run_bench "$(basename "$(dirname "$bench")")"
done
if [ -n "$live_pid" ]; then
  run_checked "live Kraken still serving after the suite (API, example app)" bash tools/ci/live-kraken.sh check
  run_step "live Kraken stopped, its apps cancelled" bash tools/ci/live-kraken.sh stop
fi
log "all steps done in $(since "$started")"

summary_rc=0
node tools/ci/summary.mjs --results "$RESULTS_DIR" "${summary_args[@]}" || summary_rc=$?
if [ "$any_failed" != 0 ] || [ "$summary_rc" != 0 ]; then exit 1; fi
exit 0
