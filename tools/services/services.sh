#!/usr/bin/env bash
# The services Kraken's integration tests need on this machine: a Docker engine and the shared
# RabbitMQ (guest/guest on 127.0.0.1:5672). Debian 12, run as root, no systemd needed.
#
#   bash tools/services/services.sh up               install what is missing, start dockerd + rabbitmq
#   bash tools/services/services.sh status           print each service's state; non-zero if one is down
#   bash tools/services/services.sh down             stop both cleanly
#   bash tools/services/services.sh allow-bridge BR  let traffic cross bridge BR (dockerd drops FORWARD)
#
# Idempotent: `up` with both services running does nothing. SERVICES_DIR (default /tmp/kraken-services)
# holds the daemons' logs and apt's log.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
# CI shells and sudo'd shells do not always have the sbin directories on PATH
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

SERVICES_DIR=${SERVICES_DIR:-/tmp/kraken-services}
DOCKER_PIDFILE=/var/run/docker.pid
AMQP_PORT=5672
READY_TIMEOUT_S=60

log() { echo "[services $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }
since() { # since START_MS -> "6.8s"
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%ds' $(( d / 1000 )) $(( d % 1000 / 100 ))
}
require_root() { [ "$(id -u)" = 0 ] || die "'$1' must run as root (it installs packages and starts daemons)"; }
show_tail() { # show_tail FILE: the evidence a failing start leaves behind
  [ -s "$1" ] || return 0
  echo "----- last lines of $1 -----" >&2
  tail -n 30 "$1" >&2
  echo "-----" >&2
}

# ---------------------------------------------------------------- packages

# Packages are checked by the commands they provide, so an engine installed another way
# (docker-ce, a newer rabbitmq) counts as present instead of being replaced. make and g++ build
# better-sqlite3 (no prebuilt binary without GitHub); systemd only provides `systemd-analyze verify`
# for the agent's service unit (it is not started).
missing_packages() {
  local need=() pair
  for pair in rabbitmq-server:rabbitmq-server dockerd:docker.io containerd:containerd runc:runc \
    iptables:iptables git:git curl:curl ip:iproute2 debootstrap:debootstrap unshare:util-linux \
    nsenter:util-linux python3:python3 chromium:chromium make:make g++:g++ \
    systemd-analyze:systemd; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
  done
  # base images copy /bin/busybox into a scratch root, so it must be the static build
  if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need+=(busybox-static); fi
  [ -s /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
  echo "${need[*]}"
}

install_packages() {
  local need
  need=$(missing_packages)
  [ -z "$need" ] && return 0
  local t0 policy=/usr/sbin/policy-rc.d created_policy=
  t0=$(now_ms)
  log "installing: $need"
  # postinst scripts must not try to start services: there is no init system to own them
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  local rc=0
  {
    apt-get update -qq &&
      # shellcheck disable=SC2086 # $need is a space-separated list of package names
      apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends $need
  } >"$SERVICES_DIR/apt.log" 2>&1 || rc=$?
  [ -n "$created_policy" ] && rm -f "$policy"
  if [ "$rc" != 0 ]; then
    show_tail "$SERVICES_DIR/apt.log"
    die "apt-get failed (exit $rc) installing: $need"
  fi
  need=$(missing_packages)
  [ -z "$need" ] || die "still missing after apt-get install: $need (see $SERVICES_DIR/apt.log)"
  log "packages installed in $(since "$t0")"
}

# ---------------------------------------------------------------- docker

docker_answers() { docker info >/dev/null 2>&1; }
dockerd_pid() { # prints the pid of a live dockerd, fails if there is none
  local pid
  [ -s "$DOCKER_PIDFILE" ] || return 1
  pid=$(cat "$DOCKER_PIDFILE")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

start_docker() {
  if docker_answers; then
    log "dockerd already up"
    return 0
  fi
  local t0
  t0=$(now_ms)
  if dockerd_pid >/dev/null; then
    log "dockerd is starting (pid $(dockerd_pid)); waiting for it"
  else
    # setsid + closed stdio: the daemon must outlive this shell and never hold a CI log pipe open
    setsid dockerd </dev/null >"$SERVICES_DIR/dockerd.log" 2>&1 &
  fi
  local deadline=$(( $(now_ms) + READY_TIMEOUT_S * 1000 ))
  until docker_answers; do
    if [ "$(now_ms)" -ge "$deadline" ]; then
      show_tail "$SERVICES_DIR/dockerd.log"
      die "dockerd did not answer 'docker info' within ${READY_TIMEOUT_S}s"
    fi
    sleep 0.1
  done
  log "dockerd up in $(since "$t0") ($(docker info -f '{{.Driver}}, cgroup v{{.CgroupVersion}}' 2>/dev/null))"
}

stop_docker() {
  local pid
  if ! pid=$(dockerd_pid); then
    log "dockerd not running"
    return 0
  fi
  local t0
  t0=$(now_ms)
  # dockerd stops its containers and the containerd it spawned on SIGTERM
  kill -TERM "$pid"
  local deadline=$(( $(now_ms) + 45000 ))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$(now_ms)" -lt "$deadline" ] || die "dockerd (pid $pid) still running 45s after SIGTERM"
    sleep 0.1
  done
  log "dockerd stopped in $(since "$t0")"
}

# ---------------------------------------------------------------- rabbitmq

amqp_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$AMQP_PORT") 2>/dev/null; }
# The main node registered with epmd means a rabbit is booting or running, even before its port opens.
# Private test nodes (@kraken/testing) register under other names and do not count.
main_node_registered() { epmd -names 2>/dev/null | grep -q '^name rabbit at port'; }
rabbit_log() { echo "/var/log/rabbitmq/rabbit@$(hostname -s).log"; }

start_rabbitmq() {
  # port open + await_startup is the same readiness test as below; await_startup alone would need ~1s of CLI boot
  if amqp_port_open; then
    log "rabbitmq already up"
    return 0
  fi
  local t0
  t0=$(now_ms)
  if main_node_registered; then
    log "rabbitmq is starting; waiting for it"
  else
    # Debian's wrapper su's to the rabbitmq user; setsid detaches the node from this shell and its CI pipe.
    setsid /usr/sbin/rabbitmq-server </dev/null >"$SERVICES_DIR/rabbitmq.log" 2>&1 &
  fi
  local deadline=$(( $(now_ms) + READY_TIMEOUT_S * 1000 ))
  until amqp_port_open; do
    if [ "$(now_ms)" -ge "$deadline" ]; then
      show_tail "$SERVICES_DIR/rabbitmq.log"
      show_tail "$(rabbit_log)"
      die "rabbitmq did not open port $AMQP_PORT within ${READY_TIMEOUT_S}s"
    fi
    sleep 0.1
  done
  if ! rabbitmqctl -q await_startup --timeout "$READY_TIMEOUT_S" >/dev/null 2>"$SERVICES_DIR/rabbitmqctl.err"; then
    show_tail "$SERVICES_DIR/rabbitmqctl.err"
    show_tail "$(rabbit_log)"
    die "rabbitmq opened port $AMQP_PORT but 'rabbitmqctl await_startup' failed"
  fi
  log "rabbitmq up in $(since "$t0")"
}

stop_rabbitmq() {
  if ! amqp_port_open && ! main_node_registered; then
    log "rabbitmq not running"
    return 0
  fi
  local t0
  t0=$(now_ms)
  # shutdown returns once the node's OS process has exited
  rabbitmqctl -q shutdown >/dev/null 2>"$SERVICES_DIR/rabbitmqctl.err" || {
    show_tail "$SERVICES_DIR/rabbitmqctl.err"
    die "'rabbitmqctl shutdown' failed"
  }
  # epmd outlives the node; it refuses to exit while private test nodes are still registered, which is right
  epmd -kill >/dev/null 2>&1 || true
  log "rabbitmq stopped in $(since "$t0")"
}

# ---------------------------------------------------------------- commands

status() {
  local down=0 pid
  if docker_answers; then
    echo "dockerd: up (pid $(dockerd_pid || echo '?'), $(docker info -f '{{.ServerVersion}}, {{.Driver}}' 2>/dev/null))"
  elif pid=$(dockerd_pid); then
    echo "dockerd: not answering (pid $pid)"; down=1
  else
    echo "dockerd: down"; down=1
  fi
  if amqp_port_open; then
    echo "rabbitmq: up (amqp://127.0.0.1:$AMQP_PORT)"
  elif main_node_registered; then
    echo "rabbitmq: starting (port $AMQP_PORT not open yet)"; down=1
  else
    echo "rabbitmq: down"; down=1
  fi
  return "$down"
}

# Bridged packets go through iptables (br_netfilter) and dockerd sets the FORWARD policy to DROP,
# so test networks on their own bridge need an explicit accept. DOCKER-USER is evaluated first.
allow_bridge() {
  local br=$1 chain=FORWARD
  [ -n "$br" ] || die "usage: $0 allow-bridge BRIDGE"
  iptables -n -L DOCKER-USER >/dev/null 2>&1 && chain=DOCKER-USER
  iptables -C "$chain" -i "$br" -o "$br" -j ACCEPT 2>/dev/null || iptables -I "$chain" -i "$br" -o "$br" -j ACCEPT
  log "forwarding allowed on bridge $br ($chain)"
}

main() {
  local cmd=${1:-}
  case "$cmd" in
    up)
      require_root up
      mkdir -p "$SERVICES_DIR"
      install_packages
      start_docker
      start_rabbitmq
      ;;
    down)
      require_root down
      mkdir -p "$SERVICES_DIR"
      stop_rabbitmq
      stop_docker
      ;;
    status) status ;;
    allow-bridge)
      require_root allow-bridge
      allow_bridge "${2:-}"
      ;;
    *)
      echo "usage: $0 up | down | status | allow-bridge BRIDGE" >&2
      exit 2
      ;;
  esac
}

main "$@"
