#!/usr/bin/env bash
# Proves the language templates work end to end on the local base images: builds a small fixture
# app with each template, runs it the way the deployer will (--init, a host port on 127.0.0.1),
# waits for HTTP 200, runs its test command, stops it, and reports build/start/stop times.
# Every container and image it makes is removed on exit; the base images are kept.
#
# Usage: dockerfiles/test-templates.sh [--offline]
#   --offline  skip the fixture that installs a package from the npm registry during the build
set -euo pipefail

readonly PROG=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd)
readonly HERE
# dockerode drives the legacy builder (POST /build), so the templates are proven against it.
export DOCKER_BUILDKIT=0
readonly TEST_LABEL=org.kraken.template-test=1
readonly IMAGE_PREFIX=kraken-template-test
OFFLINE=0
for arg in "$@"; do
  case $arg in
    --offline) OFFLINE=1 ;;
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$PROG: unknown argument '$arg' (allowed: --offline)" >&2; exit 2 ;;
  esac
done

ms() { date +%s%3N; }
log() { echo "[templates] $*" >&2; }
fail() { echo "$PROG: FAIL: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 ||
  fail "Docker is not answering ('docker info' failed). Start it with: bash tools/services/services.sh up"
for image in kraken-base/node:20 kraken-base/python:3 kraken-base/static:1; do
  docker image inspect "$image" >/dev/null 2>&1 || fail "$image is missing; build it: bash dockerfiles/build-base-images.sh"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kraken-template-test.XXXXXX")
INDEX_PID=""
cleanup() {
  docker ps -aq --filter "label=$TEST_LABEL" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker images -q --filter "label=$TEST_LABEL" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
  if [ -s "$WORK/stage-ids" ]; then sort -u "$WORK/stage-ids" | xargs -r docker rmi >/dev/null 2>&1 || true; fi
  if [ -n "$INDEX_PID" ]; then kill "$INDEX_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

RESULTS=()

# build NAME TEMPLATE CONTEXT [docker build args...] -> prints the build time in ms; the build
# output stays in $WORK/build-NAME.log for the cache checks.
build() {
  local name=$1 template=$2 context=$3 t0 log="$WORK/build-$1.log"
  shift 3
  t0=$(ms)
  # --force-rm: a failed step must not leave its container behind.
  docker build --force-rm --label "$TEST_LABEL" -f "$HERE/$template/Dockerfile" -t "$IMAGE_PREFIX/$name" \
    "$@" "$context" >"$log" 2>&1 || { cat "$log" >&2; fail "$name: docker build failed"; }
  echo $(($(ms) - t0))
  # The context stage's image is untagged and unlabelled by --label; note its id for cleanup.
  awk '/^Step [0-9]+\/[0-9]+ : / { in_ctx = ($0 ~ / : COPY \. \/src\/$/) }
       in_ctx && /^ ---> [0-9a-f]+$/ { id = $2 } END { if (id) print id }' "$log" >>"$WORK/stage-ids"
}

# The step whose text contains PATTERN must have come from the layer cache in NAME's last build.
assert_cached() {
  local name=$1 pattern=$2
  awk -v pat="$pattern" '/^Step [0-9]+\/[0-9]+ : / { at = index($0, pat) > 0; next }
       at { if ($0 == " ---> Using cache") found = 1; at = 0 } END { exit !found }' "$WORK/build-$name.log" ||
    { cat "$WORK/build-$name.log" >&2; fail "$name: '$pattern' was not served from the layer cache"; }
}

# serve NAME CONTAINER_PORT EXPECTED_BODY_SUBSTRING [extra docker run args...] [-- cmd...]
# Runs the image like the deployer (tini as PID 1, port on 127.0.0.1), waits for 200, checks the
# body, then stops it. Appends "start_ms stop_ms" to the row of NAME.
serve() {
  local name=$1 cport=$2 expect=$3 hport t0 code body start stop
  shift 3
  local run_args=() cmd=()
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then shift; cmd=("$@"); break; fi
    run_args+=("$1"); shift
  done
  hport=$(free_port)
  t0=$(ms)
  docker run -d --init --label "$TEST_LABEL" --name "$IMAGE_PREFIX-$name" -p "127.0.0.1:$hport:$cport" \
    ${run_args[@]+"${run_args[@]}"} "$IMAGE_PREFIX/$name" ${cmd[@]+"${cmd[@]}"} >/dev/null
  code=000
  for _ in $(seq 300); do
    code=$(curl -s -o "$WORK/body-$name" -w '%{http_code}' --max-time 1 "http://127.0.0.1:$hport/" || true)
    [ "$code" = 200 ] && break
    sleep 0.05
  done
  start=$(($(ms) - t0))
  if [ "$code" != 200 ]; then
    docker logs "$IMAGE_PREFIX-$name" >&2 || true
    fail "$name: no HTTP 200 on 127.0.0.1:$hport within 15 s (last status $code)"
  fi
  body=$(cat "$WORK/body-$name")
  case $body in *"$expect"*) ;; *) fail "$name: body '$body' does not contain '$expect'" ;; esac
  t0=$(ms)
  docker stop "$IMAGE_PREFIX-$name" >/dev/null
  stop=$(($(ms) - t0))
  # A stop that needed the 10 s SIGKILL fallback means SIGTERM did not reach the app.
  [ "$stop" -lt 5000 ] || fail "$name: docker stop took ${stop} ms; SIGTERM was not handled"
  docker rm "$IMAGE_PREFIX-$name" >/dev/null
  echo "$start $stop"
}

# run_test NAME CMD: the deployer's test step, a one-off container of the built image.
run_test() {
  local name=$1 test_cmd=$2
  docker run --rm --init --label "$TEST_LABEL" "$IMAGE_PREFIX/$name" sh -c "$test_cmd" >"$WORK/test-$name.log" 2>&1 ||
    { cat "$WORK/test-$name.log" >&2; fail "$name: test command '$test_cmd' failed"; }
}

record() { RESULTS+=("$(printf '%-22s %9s %9s %9s %9s %8s' "$@")"); }
image_size() { docker image inspect -f '{{.Size}}' "$IMAGE_PREFIX/$1" | awk '{printf "%.0fMB", $1 / 1e6}'; }

# Full scenario for one fixture: cold build (no layer cache), warm rebuild (all cached), rebuild
# after a source change (dependency layer cached), then serve and stop.
scenario() {
  local name=$1 template=$2 context=$3 cport=$4 expect=$5 touch_file=$6 deps_step=$7
  shift 7
  local build_args=() run_rest=()
  while [ $# -gt 0 ]; do
    if [ "$1" = --run ]; then shift; run_rest=("$@"); break; fi
    build_args+=("$1"); shift
  done
  local cold warm changed times
  log "$name: building with dockerfiles/$template/Dockerfile"
  cold=$(build "$name" "$template" "$context" --no-cache ${build_args[@]+"${build_args[@]}"})
  warm=$(build "$name" "$template" "$context" ${build_args[@]+"${build_args[@]}"})
  echo >>"$context/$touch_file"   # a content change that is valid in any language
  changed=$(build "$name" "$template" "$context" ${build_args[@]+"${build_args[@]}"})
  [ -z "$deps_step" ] || assert_cached "$name" "$deps_step"
  times=$(serve "$name" "$cport" "$expect" ${run_rest[@]+"${run_rest[@]}"})
  record "$name" "${cold}ms" "${warm}ms" "${changed}ms" "${times% *}ms" "${times#* }ms"
  log "$name: ok (cold ${cold} ms, warm ${warm} ms, after source change ${changed} ms, start->200 ${times% *} ms, stop ${times#* } ms, $(image_size "$name"))"
}

# --- fixtures --------------------------------------------------------------------------------------

node_server='const http = require("node:http");
const port = Number(process.env.PORT ?? 3000);
let extra = "";
try { extra = " is-number:" + require("is-number")(port); } catch { /* fixture without dependencies */ }
http.createServer((req, res) => { res.writeHead(200, { "content-type": "text/plain" }); res.end("node ok" + extra + "\n"); })
  .listen(port, "0.0.0.0", () => console.log("listening on " + port));'

mkdir -p "$WORK/node-bare"
echo "$node_server" >"$WORK/node-bare/server.js"

if [ "$OFFLINE" = 0 ]; then
  mkdir -p "$WORK/node-deps/.git" "$WORK/node-deps/node_modules/junk"
  echo "$node_server" >"$WORK/node-deps/server.js"
  cat >"$WORK/node-deps/package.json" <<'EOF'
{ "name": "fixture-node", "version": "1.0.0", "private": true,
  "scripts": { "start": "node server.js", "test": "node -e \"require('assert').strictEqual(require('is-number')(3), true)\"" },
  "dependencies": { "is-number": "7.0.0" } }
EOF
fi

python_app='import os, http.server
try:
    import krakenfixture
    extra = " " + krakenfixture.VALUE
except ImportError:
    extra = ""
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("python ok" + extra + "\n").encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler).serve_forever()'

mkdir -p "$WORK/python-bare" "$WORK/python-deps"
echo "$python_app" >"$WORK/python-bare/app.py"
printf '# no dependencies yet\n\n' >"$WORK/python-bare/requirements.txt"
echo "$python_app" >"$WORK/python-deps/app.py"
echo 'krakenfixture==0.1' >"$WORK/python-deps/requirements.txt"

# A one-package index on 127.0.0.1 stands in for PyPI (not reachable here) to prove the pip path.
mkdir -p "$WORK/pyindex/simple/krakenfixture"
python3 - "$WORK/pyindex/simple/krakenfixture" <<'EOF'
import base64, hashlib, sys, zipfile
out = sys.argv[1]
name = "krakenfixture-0.1-py3-none-any.whl"
files = {
    "krakenfixture/__init__.py": 'VALUE = "from-local-index"\n',
    "krakenfixture-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: krakenfixture\nVersion: 0.1\n",
    "krakenfixture-0.1.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: kraken-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for path, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(text.encode())}")
record.append("krakenfixture-0.1.dist-info/RECORD,,")
files["krakenfixture-0.1.dist-info/RECORD"] = "\n".join(record) + "\n"
with zipfile.ZipFile(f"{out}/{name}", "w") as whl:
    for path, text in files.items():
        whl.writestr(path, text)
with open(f"{out}/index.html", "w") as index:
    index.write(f'<!doctype html><a href="{name}">{name}</a>\n')
EOF
INDEX_PORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/pyindex" "$INDEX_PORT" >"$WORK/pyindex.log" 2>&1 &
INDEX_PID=$!

mkdir -p "$WORK/static-site/public/css"
echo '<!doctype html><title>root</title><p>static root ok</p>' >"$WORK/static-site/index.html"
echo '<!doctype html><title>public</title><link rel="stylesheet" href="css/site.css"><p>static public ok</p>' \
  >"$WORK/static-site/public/index.html"
echo 'p { color: teal; }' >"$WORK/static-site/public/css/site.css"
echo 'console.log("hi");' >"$WORK/static-site/public/app.js"
chmod 600 "$WORK/static-site/public/app.js"   # committed without read permission for others

# --- run -------------------------------------------------------------------------------------------

scenario node-bare node "$WORK/node-bare" 3000 "node ok" server.js "npm ci" --run -- sh -c 'node server.js'
if [ "$OFFLINE" = 0 ]; then
  # No lockfile: npm install fetches is-number from the registry through the image's CA bundle.
  scenario node-install node "$WORK/node-deps" 3000 "node ok is-number:true" server.js "npm ci"
  run_test node-install "npm test"
  docker run --rm "$IMAGE_PREFIX/node-install" sh -c '[ ! -e .git ] && [ ! -e node_modules/junk ]' 2>/dev/null ||
    log "note: .git and node_modules from the context reach the image; the deployer must exclude them (as documented)"
  # With the lockfile npm install wrote: npm ci, and the deployer-style command override.
  docker run --rm "$IMAGE_PREFIX/node-install" cat package-lock.json >"$WORK/node-deps/package-lock.json"
  rm -rf "$WORK/node-deps/.git" "$WORK/node-deps/node_modules"
  scenario node-ci node "$WORK/node-deps" 3000 "node ok is-number:true" server.js "npm ci" --run -e PORT=3000 -- sh -c 'npm start'
fi
scenario python-bare python "$WORK/python-bare" 8000 "python ok" app.py "pip install"
run_test python-bare "python3 -c 'import sys; assert sys.version_info >= (3, 9)'"
scenario python-deps python "$WORK/python-deps" 8000 "python ok from-local-index" app.py "pip install" \
  --network host --build-arg "PIP_INDEX_URL=http://127.0.0.1:$INDEX_PORT/simple" \
  --run -- sh -c 'python3 app.py'
scenario static-root static "$WORK/static-site" 80 "static root ok" index.html ""
scenario static-public static "$WORK/static-site" 8080 "static public ok" public/index.html "" \
  --build-arg SITE_ROOT=public --build-arg PORT=8080

# MIME types and the unreadable file, through a running static container.
hport=$(free_port)
docker run -d --init --label "$TEST_LABEL" --name "$IMAGE_PREFIX-mime" -p "127.0.0.1:$hport:8080" \
  "$IMAGE_PREFIX/static-public" >/dev/null
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$hport/" && break; sleep 0.05; done
css=$(curl -fs -o /dev/null -w '%{content_type}' "http://127.0.0.1:$hport/css/site.css") || fail "static: css not served"
js=$(curl -fs -o /dev/null -w '%{content_type}' "http://127.0.0.1:$hport/app.js") || fail "static: mode-600 app.js not served"
case "$css|$js" in text/css*\|text/javascript*) ;; *) fail "static: content types css='$css' js='$js'" ;; esac
docker rm -f "$IMAGE_PREFIX-mime" >/dev/null
log "static: content types ok (css: $css, js: $js)"

printf '\n%-22s %9s %9s %9s %9s %8s\n' fixture cold warm changed start-200 stop
printf '%s\n' "${RESULTS[@]}"
log "all template checks passed"
