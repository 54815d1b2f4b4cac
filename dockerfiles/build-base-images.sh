#!/usr/bin/env bash
# Builds Kraken's local base images from this machine's own files, so a cluster with no image
# registry can still build apps. See dockerfiles/README.md for what each image holds and why.
#
#   kraken-base/node:<host node major>  host node + its shared libs + npm + corepack + busybox-static
#   kraken-base/python:3                debootstrap minbase (Debian) + python3 + a venv at /opt/venv
#   kraken-base/static:1                busybox-static only; serves files with busybox httpd
#
# Idempotent: an image that already exists is kept unless --force is given.
set -euo pipefail

readonly PROG=${0##*/}
# Bump when the layout of an image changes, so a kept image built by an older script is reported as stale.
readonly RECIPE=2
readonly NODE_REPO=kraken-base/node PYTHON_TAG=kraken-base/python:3 STATIC_TAG=kraken-base/static:1
readonly CACHE_DIR=${KRAKEN_IMAGE_CACHE:-/var/cache/kraken/base-images}
readonly SUITE=${KRAKEN_DEBIAN_SUITE:-bookworm}
readonly CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
readonly BUSYBOX=${KRAKEN_BUSYBOX:-/bin/busybox}

usage() {
  cat <<EOF
Usage: $PROG [--force] [--refresh-cache] [node|python|static|all]...

Builds registry-free base images with docker import (default: all).
  --force          rebuild images that already exist
  --refresh-cache  download the Debian minbase tree again (python) instead of reusing the cached tarball
  -h, --help       show this help

Environment:
  KRAKEN_IMAGE_CACHE   cache dir for the debootstrap tarball (default /var/cache/kraken/base-images)
  KRAKEN_DEBIAN_MIRROR Debian mirror for the python image (default: first URIs of
                       /etc/apt/sources.list.d/debian.sources, else /etc/apt/sources.list)
  KRAKEN_DEBIAN_SUITE  Debian suite for the python image (default bookworm)
  KRAKEN_BUSYBOX       statically linked busybox to copy (default /bin/busybox, package busybox-static)
EOF
}

START_MS=$(date +%s%3N)
ms() { date +%s%3N; }
secs() { local d=$(($(ms) - $1)); printf '%d.%01ds' $((d / 1000)) $((d % 1000 / 100)); }
log() { echo "[base-images +$(secs "$START_MS")] $*" >&2; }
die() { echo "$PROG: error: $*" >&2; exit 1; }

FORCE=0 REFRESH=0 TARGETS=()
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    --refresh-cache) REFRESH=1 ;;
    -h | --help) usage; exit 0 ;;
    node | python | static) TARGETS+=("$arg") ;;
    all) TARGETS+=(node python static) ;;
    *) echo "$PROG: unknown argument '$arg' (allowed: --force, --refresh-cache, node, python, static, all)" >&2; usage >&2; exit 2 ;;
  esac
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(node python static)

command -v docker >/dev/null || die "the docker CLI is not installed; run: bash tools/services/services.sh up"
docker info >/dev/null 2>&1 ||
  die "Docker is not answering ('docker info' failed). Start it with: bash tools/services/services.sh up"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kraken-base-images.XXXXXX")
MOUNTED=()
cleanup() {
  local m
  for m in ${MOUNTED[@]+"${MOUNTED[@]}"}; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers ---------------------------------------------------------------------------------------

# Returns 0 when TAG should be (re)built. A kept image whose recorded source differs from what would
# be built now is reported, because docker import images never update themselves.
needs_build() {
  local tag=$1 source=$2 have
  if [ "$FORCE" = 1 ] || ! docker image inspect "$tag" >/dev/null 2>&1; then return 0; fi
  have=$(docker image inspect -f '{{index .Config.Labels "org.kraken.base.source"}}|{{index .Config.Labels "org.kraken.base.recipe"}}' "$tag")
  if [ "${have%|*}" != "$source" ]; then
    log "$tag: kept, but it was built from '${have%|*}' and this machine now has '$source'; use --force to rebuild"
  elif [ "${have##*|}" != "$RECIPE" ]; then
    log "$tag: kept, but it was built by an older version of this script (recipe ${have##*|}, now $RECIPE); use --force to rebuild"
  else
    log "$tag: already present, kept (use --force to rebuild)"
  fi
  return 1
}

# docker import TARFILE as TAG with the shared labels; drops the image TAG pointed to before, when
# nothing else uses it, so --force does not leave <none> images behind.
import_image() {
  local tag=$1 tarfile=$2 lang=$3 source=$4 old new
  shift 4
  old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  new=$(docker import \
    --change "LABEL org.kraken.base=1 org.kraken.base.lang=$lang org.kraken.base.recipe=$RECIPE" \
    --change "LABEL org.kraken.base.source=\"$source\"" \
    "$@" "$tarfile" "$tag")
  if [ -n "$old" ] && [ "$old" != "$new" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
}

size_of() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.1f MB", $1 / 1e6}'; }

require_static_busybox() {
  [ -x "$BUSYBOX" ] || die "no busybox at $BUSYBOX; install it: apt-get install busybox-static (or set KRAKEN_BUSYBOX)"
  # A dynamically linked busybox would need the host's libc inside the image.
  if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked; install the statically linked one: apt-get install busybox-static"
  fi
}

busybox_version() { "$BUSYBOX" 2>&1 | awk 'NR == 1 {print $2}'; }

# A busybox tree: the static binary plus one symlink per applet, in /bin.
busybox_tree() {
  local root=$1 applet
  mkdir -p "$root/bin" "$root/usr/bin"
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  # Shebangs such as npm's '#!/usr/bin/env node' need env at this exact path.
  ln -sf ../../bin/env "$root/usr/bin/env"
}

minimal_etc() {
  local root=$1 users=$2 groups=$3
  mkdir -p "$root/etc" "$root/tmp"
  chmod 1777 "$root/tmp"
  printf '%b' "$users" >"$root/etc/passwd"
  printf '%b' "$groups" >"$root/etc/group"
  echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
}

# --- node ------------------------------------------------------------------------------------------

build_node() {
  command -v node >/dev/null || die "node is not installed on this machine; the node image copies the host's node"
  command -v npm >/dev/null || die "npm is not installed on this machine; the node image copies the host's npm"
  require_static_busybox
  [ -s "$CA_BUNDLE" ] || die "no CA bundle at $CA_BUNDLE; install it: apt-get install ca-certificates"

  local node_bin npm_dir corepack_dir version major tag source
  node_bin=$(readlink -f "$(command -v node)")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  version=$("$node_bin" --version)
  major=${version#v}
  major=${major%%.*}
  tag="$NODE_REPO:$major"
  source="host node $version, npm $(npm --version), busybox $(busybox_version)"
  needs_build "$tag" "$source" || return 0
  [ "$major" = 20 ] || log "note: the node template defaults to $NODE_REPO:20; pass --build-arg BASE_IMAGE=$tag"

  local t0 root lib
  t0=$(ms)
  root="$WORK/node-rootfs"
  log "node: assembling $tag from $node_bin ($version)"
  mkdir -p "$root"/{usr/bin,usr/lib/node_modules,etc/ssl/certs,app,home/node}
  cp "$node_bin" "$root/usr/bin/node"
  # ldd lists the dynamic loader and every library with absolute paths; copy them where node expects them.
  for lib in $(ldd "$node_bin" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}'); do
    cp -L --parents "$lib" "$root/"
  done
  cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
  rm -rf "$root/usr/lib/node_modules/npm/docs" "$root/usr/lib/node_modules/npm/man"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
  corepack_dir="$(dirname "$npm_dir")/corepack"
  if [ -d "$corepack_dir" ]; then
    cp -a "$corepack_dir" "$root/usr/lib/node_modules/corepack"
    ln -s ../lib/node_modules/corepack/dist/corepack.js "$root/usr/bin/corepack"
  fi
  busybox_tree "$root"
  # The host bundle, not a generic one: it also holds any local or proxy CA this network needs.
  cp -L "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
  minimal_etc "$root" \
    'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n'
  mkdir -p "$root/root"

  # Everything is owned by root in the image (whoever runs this script), except the node user's
  # home and /app, which the template's `npm install` and the app itself write to.
  local tarfile="$WORK/node.tar"
  tar -C "$root" --numeric-owner --owner=0 --group=0 --exclude=./home/node --exclude=./app -cf "$tarfile" .
  tar -C "$root" --numeric-owner --owner=1000 --group=1000 -rf "$tarfile" ./home/node ./app
  # HOME is left to Docker, which derives it from /etc/passwd for whichever USER runs.
  import_image "$tag" "$tarfile" node "$source" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
    --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
    --change 'WORKDIR /app' \
    --change 'CMD ["node"]'
  rm -rf "$root" "$tarfile"
  log "node: $tag built in $(secs "$t0") ($(size_of "$tag"))"
}

# --- python ----------------------------------------------------------------------------------------

debian_mirror() {
  if [ -n "${KRAKEN_DEBIAN_MIRROR:-}" ]; then echo "$KRAKEN_DEBIAN_MIRROR"; return; fi
  local m=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -r /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# debootstrap is the slow step (about a minute), so its result is kept as a tarball and reused.
minbase_tarball() {
  local mirror=$1 arch tarball
  arch=$(dpkg --print-architecture)
  tarball="$CACHE_DIR/$SUITE-minbase-$arch.tar"
  if [ -s "$tarball" ] && [ "$REFRESH" = 0 ]; then
    log "python: reusing $tarball"
    echo "$tarball"
    return
  fi
  command -v debootstrap >/dev/null || die "debootstrap is not installed; install it: apt-get install debootstrap"
  if ! mkdir -p "$CACHE_DIR" 2>/dev/null || [ ! -w "$CACHE_DIR" ]; then
    die "cannot write the cache dir $CACHE_DIR; set KRAKEN_IMAGE_CACHE to a writable dir"
  fi

  local t0 root
  t0=$(ms)
  root="$WORK/minbase"
  log "python: debootstrap --variant=minbase $SUITE from $mirror (about a minute, cached afterwards)"
  if ! debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
    tail -20 "$WORK/debootstrap.log" >&2
    die "debootstrap of $SUITE from $mirror failed (log above)"
  fi
  # Point the tree's apt at the same mirror(s) the machine uses.
  if [ -r /etc/apt/sources.list.d/debian.sources ] && [ -z "${KRAKEN_DEBIAN_MIRROR:-}" ]; then
    rm -f "$root/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
  else
    echo "deb $mirror $SUITE main" >"$root/etc/apt/sources.list"
  fi
  chroot "$root" apt-get clean >/dev/null
  rm -rf "$root"/var/lib/apt/lists/*
  # Written beside the target and renamed, so an interrupted run never leaves a truncated cache.
  tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$root"
  log "python: minbase tree cached as $tarball in $(secs "$t0")"
  echo "$tarball"
}

build_python() {
  [ "$(id -u)" = 0 ] || die "the python image needs root (debootstrap, chroot, mount); run this script as root"
  [ -s "$CA_BUNDLE" ] || die "no CA bundle at $CA_BUNDLE; install it: apt-get install ca-certificates"
  local mirror source
  mirror=$(debian_mirror)
  source="debian $SUITE minbase from $mirror, python3 + python3-venv"
  needs_build "$PYTHON_TAG" "$source" || return 0

  local tarball t0 root pyver
  tarball=$(minbase_tarball "$mirror")
  t0=$(ms)
  root="$WORK/python-rootfs"
  mkdir -p "$root"
  tar -C "$root" --numeric-owner -xf "$tarball"

  # Documentation and translations are dead weight in an app image.
  cat >"$root/etc/dpkg/dpkg.cfg.d/kraken-excludes" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  # Keeps package scripts from trying to start services inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  MOUNTED+=("$root/proc")

  log "python: apt-get install python3 python3-venv in the minbase tree"
  # python3-venv carries pip and setuptools as wheels (ensurepip), so a venv gets pip without
  # python3-pip, and installing into the venv avoids Debian's externally-managed (PEP 668) guard.
  if ! chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -c '
      apt-get update -qq &&
      apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends python3 python3-venv &&
      python3 -m venv /opt/venv &&
      useradd --uid 1000 --user-group --create-home --shell /bin/sh app &&
      apt-get clean && rm -rf /var/lib/apt/lists/*' >"$WORK/python-apt.log" 2>&1; then
    tail -20 "$WORK/python-apt.log" >&2
    die "installing python3 in the $SUITE tree failed (log above)"
  fi
  pyver=$(chroot "$root" /opt/venv/bin/python3 -c 'import platform; print(platform.python_version())')
  umount "$root/proc"
  MOUNTED=()

  rm -f "$root/usr/sbin/policy-rc.d"
  : >"$root/etc/resolv.conf"
  find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
  rm -rf "${root:?}"/usr/share/man/* "${root:?}"/usr/share/info/* "${root:?}"/usr/share/locale/* \
    "${root:?}"/var/cache/apt/*.bin "${root:?}"/var/cache/debconf/*-old "${root:?}"/var/lib/dpkg/*-old \
    "${root:?}"/var/log/*.log "${root:?}"/var/log/apt/* "${root:?}"/tmp/* "${root:?}"/dev/*
  mkdir -p "$root/etc/ssl/certs" "$root/app"
  # The app runs as uid 1000 (the template's USER) and may write to its own folder.
  chown 1000:1000 "$root/app"
  cp -L "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"

  local tarfile="$WORK/python.tar"
  tar -C "$root" --numeric-owner -cf "$tarfile" .
  import_image "$PYTHON_TAG" "$tarfile" python "$source" \
    --change "LABEL org.kraken.base.python=$pyver" \
    --change 'ENV VIRTUAL_ENV=/opt/venv' \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
    --change 'WORKDIR /app' \
    --change 'CMD ["python3"]'
  rm -rf "$root" "$tarfile"
  log "python: $PYTHON_TAG (python $pyver) built in $(secs "$t0") ($(size_of "$PYTHON_TAG"))"
}

# --- static ----------------------------------------------------------------------------------------

build_static() {
  require_static_busybox
  local source
  source="busybox $(busybox_version) httpd"
  needs_build "$STATIC_TAG" "$source" || return 0

  local t0 root
  t0=$(ms)
  root="$WORK/static-rootfs"
  log "static: assembling $STATIC_TAG from $BUSYBOX"
  busybox_tree "$root"
  minimal_etc "$root" \
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    'root:x:0:\nnogroup:x:65534:\n'
  mkdir -p "$root/www" "$root/root"
  # busybox httpd only knows a handful of MIME types built in; these cover what sites ship today.
  cat >"$root/etc/httpd.conf" <<'EOF'
.html:text/html; charset=utf-8
.htm:text/html; charset=utf-8
.css:text/css; charset=utf-8
.js:text/javascript; charset=utf-8
.mjs:text/javascript; charset=utf-8
.json:application/json
.map:application/json
.webmanifest:application/manifest+json
.txt:text/plain; charset=utf-8
.xml:application/xml
.svg:image/svg+xml
.png:image/png
.jpg:image/jpeg
.jpeg:image/jpeg
.gif:image/gif
.webp:image/webp
.avif:image/avif
.ico:image/x-icon
.woff:font/woff
.woff2:font/woff2
.ttf:font/ttf
.otf:font/otf
.wasm:application/wasm
.pdf:application/pdf
.mp4:video/mp4
.webm:video/webm
.mp3:audio/mpeg
EOF
  local tarfile="$WORK/static.tar"
  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$tarfile" .
  # No ENV PORT here: an inherited ENV would override the template's ARG PORT. ($PORT in CMD is
  # expanded by the container's shell.)
  # shellcheck disable=SC2016
  import_image "$STATIC_TAG" "$tarfile" static "$source" \
    --change 'ENV PATH=/bin' \
    --change 'WORKDIR /www' \
    --change 'EXPOSE 80' \
    --change 'CMD ["sh", "-c", "exec httpd -f -v -p \"${PORT:-80}\" -h /www"]'
  rm -rf "$root" "$tarfile"
  log "static: $STATIC_TAG built in $(secs "$t0") ($(size_of "$STATIC_TAG"))"
}

# --- main ------------------------------------------------------------------------------------------

log "building: ${TARGETS[*]} (force=$FORCE)"
declare -A done_target=()
for target in "${TARGETS[@]}"; do
  [ -n "${done_target[$target]:-}" ] && continue
  done_target[$target]=1
  "build_$target"
done
log "done"
docker images --filter label=org.kraken.base=1 --format '{{.Repository}}:{{.Tag}}  {{.Size}}  {{.CreatedSince}}' >&2
