#!/usr/bin/env bash
# A Kraken running beside the test suite, started as a user starts one: the README's first command
# (bash tools/run-kraken.sh) in a clone of this checkout, with a temporary data dir, on port 4000
# when it is free. It holds what tests must not assume is theirs: the API port, app ports from
# 20000, Kraken's queues in RabbitMQ's default vhost, an app container, an mDNS advert. A suite that
# passes beside it is hermetic. tools/test-all.sh uses it when KRAKEN_LIVE_KRAKEN=1 (.ci/run does).
#
#   bash tools/ci/live-kraken.sh start   clone HEAD, run tools/run-kraken.sh there in a session of its
#                                          own, wait until its example app answers HTTP 200
#   bash tools/ci/live-kraken.sh check   its API still answers and its example app still runs and answers
#   bash tools/ci/live-kraken.sh stop    cancel its apps, stop it, remove its clone, data, containers and
#                                          images; does nothing when none runs
#
# KRAKEN_LIVE_PATH   PATH for run-kraken.sh (default: this one); test-all.sh passes the machine's own,
#                    from before it put another Node first, so run-kraken.sh chooses its Node as on a
#                    user's machine
# State and run-kraken.sh's output: test-output/live-kraken/ (kept after stop, for reading).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
state_dir=$repo/test-output/live-kraken
state=$state_dir/state
log() { echo "[live-kraken $(date +%T)] $*" >&2; }

# the client side (live-kraken.mjs, the clone's kraken command) needs a Node that meets engines.node
# shellcheck source=../node/use-node.sh
source tools/node/use-node.sh
node_supported || use_node 24

port_taken() { node -e "require('node:net').connect($1, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"; }
free_port() { node -e "const s = require('node:net').createServer().listen(0, '0.0.0.0', () => { console.log(s.address().port); s.close(); })"; }

start() {
  stop_quietly
  mkdir -p "$state_dir"
  local root port node_id pid
  root=$(mktemp -d /tmp/kraken-live-XXXXXX)
  # HEAD of this checkout: what CI tests is what runs beside it
  git clone --quiet "$repo" "$root/kraken"
  port=4000
  if port_taken 4000; then
    port=$(free_port)
    log "port 4000 is taken on this machine: the live Kraken uses $port"
  fi
  node_id=ci-live-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  (
    cd "$root/kraken"
    PATH=${KRAKEN_LIVE_PATH:-$PATH} KRAKEN_DATA_DIR="$root/data" KRAKEN_API_PORT="$port" KRAKEN_NODE_ID="$node_id" \
      exec setsid bash tools/run-kraken.sh </dev/null >"$state_dir/run-kraken.log" 2>&1
  ) &
  pid=$!
  # setsid runs run-kraken.sh in place (this background subshell leads no group), so its pid is the
  # session id that stop signals
  cat >"$state" <<EOF
ROOT=$root
API=http://127.0.0.1:$port
DATA=$root/data
CLI=$root/kraken/apps/agent/dist/cli.js
EXAMPLE=$root/data/examples/hello-node
NODE_ID=$node_id
PID=$pid
EOF
  log "tools/run-kraken.sh runs in $root/kraken (pid $pid, node $node_id, API http://127.0.0.1:$port); its output: $state_dir/run-kraken.log"
  # npm ci, the agent's build and the example's deploy: minutes on a busy 2-core machine
  if ! node tools/ci/live-kraken.mjs wait --cli "$root/kraken/apps/agent/dist/cli.js" --api "http://127.0.0.1:$port" \
    --data-dir "$root/data" --example "$root/data/examples/hello-node" --pid "$pid" --timeout "${KRAKEN_LIVE_TIMEOUT_S:-900}"; then
    log "the last lines of its output:"
    tail -n 30 "$state_dir/run-kraken.log" >&2
    return 1
  fi
}

check() {
  [ -f "$state" ] || { echo "live Kraken: none was started (no $state)" >&2; return 1; }
  # shellcheck source=/dev/null
  source "$state"
  node tools/ci/live-kraken.mjs check --cli "$CLI" --api "$API" --data-dir "$DATA" --example "$EXAMPLE" --pid "$PID"
}

stop() {
  [ -f "$state" ] || return 0
  # shellcheck source=/dev/null
  source "$state"
  local rc=0
  if [ -f "$CLI" ] && kill -0 "$PID" 2>/dev/null; then
    node tools/ci/live-kraken.mjs cancel --cli "$CLI" --api "$API" --data-dir "$DATA" --timeout 120 || rc=1
  fi
  # its session: run-kraken.sh, the agent and whatever they started, including process groups of
  # their own (the agent's RabbitMQ node); apps the agent detached into sessions of their own were
  # cancelled above
  if session_alive; then
    signal_session TERM
    for _ in $(seq 1 40); do
      session_alive || break
      sleep 0.5
    done
    if session_alive; then
      signal_session KILL
      log "its processes did not stop on SIGTERM within 20 s: killed"
    fi
  fi
  # what its node made in the engine, should a cancel have missed something
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    docker ps -aq --filter "label=org.kraken.node=$NODE_ID" | xargs -r docker rm -f >/dev/null
    docker images -q --filter "label=org.kraken.node=$NODE_ID" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
  fi
  rm -rf "$ROOT"
  rm -f "$state"
  log "stopped (node $NODE_ID), removed $ROOT"
  return "$rc"
}

stop_quietly() { stop 2>/dev/null || true; }

# the processes of the session tools/run-kraken.sh leads (its pid is the session id, see start)
session_members() { ps -eo pid=,sid= | awk -v sid="$PID" '$2 == sid { print $1 }'; }
session_alive() { [ -n "$(session_members)" ]; }
signal_session() { session_members | xargs -r kill -s "$1" 2>/dev/null || true; }

case ${1:-} in
  start) start ;;
  check) check ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|check|stop" >&2
    exit 2
    ;;
esac
