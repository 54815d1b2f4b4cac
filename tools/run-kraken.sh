#!/usr/bin/env bash
# The README's first command: sets up and runs Kraken as a single-node cluster with embedded
# defaults (a RabbitMQ node of its own where rabbitmq-server is installed, else an in-process broker;
# the Docker engine when it answers, else supervised processes), serves the UI and API, and deploys
# the example app.
#
#   bash tools/run-kraken.sh [--no-install] [--no-example]
#
# Runs in the foreground; Ctrl-C stops the agent (apps keep running and are taken over next time).
# KRAKEN_DATA_DIR (default ~/.kraken) and KRAKEN_API_PORT (default 4000) move it; every other
# `kraken agent` setting can be given as a KRAKEN_* variable (see apps/agent/README.md).
# Kraken needs the Node.js of engines.node in package.json; with an older node (or none, if npm is
# there) it uses Node 24 LTS from the npm registry, kept in ~/.cache/kraken/node (tools/node/use-node.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

install=1 example=1
for arg in "$@"; do
  case $arg in
    --no-install) install=0 ;;
    --no-example) example=0 ;;
    *) echo "usage: $0 [--no-install] [--no-example]" >&2; exit 2 ;;
  esac
done

export KRAKEN_DATA_DIR=${KRAKEN_DATA_DIR:-$HOME/.kraken}
export KRAKEN_API_PORT=${KRAKEN_API_PORT:-4000}
export NX_DAEMON=false NX_NO_CLOUD=true
log() { echo "[run-kraken $(date +%T)] $*" >&2; }
kraken() { node apps/agent/dist/cli.js "$@"; }

# shellcheck source=node/use-node.sh
source tools/node/use-node.sh
if ! node_supported; then
  if ! node --version >/dev/null 2>&1 || ! command -v npm >/dev/null; then
    # npm runs on node: without both there is nothing to fetch a newer Node with
    echo "run-kraken: Kraken needs Node.js (engines.node in package.json) with npm; install Node.js 24 LTS (with npm) and run this again" >&2
    exit 1
  fi
  log "Kraken needs a newer Node.js than this machine's $(node --version) (engines.node in package.json): using Node 24 LTS from the npm registry"
  use_node 24
  log "using Node.js $(node --version) from $(dirname "$(command -v node)"); put that folder first on PATH to run kraken commands"
fi

if [ "$install" = 1 ]; then
  if ! command -v git >/dev/null; then
    log "installing git (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git >/dev/null
  fi
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  log "building the agent and its packages"
  npx nx run agent:build --outputStyle=static >/dev/null
fi
[ -f apps/agent/dist/cli.js ] || { echo "apps/agent/dist/cli.js is missing: run without --no-install first" >&2; exit 1; }

api="http://127.0.0.1:$KRAKEN_API_PORT"
kraken agent &
agent=$!
trap 'kill -TERM $agent 2>/dev/null; wait $agent' INT TERM

for _ in $(seq 1 150); do
  node -e "fetch('$api/ping').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && break
  kill -0 $agent 2>/dev/null || { wait $agent; exit $?; }
  sleep 0.2
done

if [ "$example" = 1 ]; then
  repo="$KRAKEN_DATA_DIR/examples/hello-node"
  if [ ! -d "$repo/.git" ]; then
    mkdir -p "$repo" && cp -r examples/hello-node/. "$repo/"
    git -C "$repo" init -q -b main && git -C "$repo" add -A
    git -C "$repo" -c user.name=kraken -c user.email=kraken@localhost commit -qm "hello-node example"
  fi
  # a deployment of it that errored (e.g. the Docker base images were missing) is tried again
  if kraken ls --api "$api" --json | node -e '
    let text = "";
    process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
      const live = JSON.parse(text).some((d) => d.srcUrl === process.argv[1] && !["ERRORED", "DESTROYED"].includes(d.status));
      process.exit(live ? 0 : 1);
    });' "$repo"; then
    log "the example app is already deployed (kraken ls)"
  else
    log "deploying the example app from $repo"
    kraken deploy "$repo" --api "$api" || log "the example did not deploy (see above); the cluster keeps running"
  fi
fi
log "Kraken runs at $api/ (Ctrl-C stops the agent; kraken ls, kraken logs <id>, kraken deploy <git-url>)"
wait $agent
