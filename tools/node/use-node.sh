# Puts a Node.js LTS release first on PATH, installing it from the npm registry when needed.
# Sourced, not run, so that PATH changes in the caller:
#
#   source tools/node/use-node.sh && use_node 24      (a major version)
#   source tools/node/use-node.sh && node_supported   (does the node on PATH meet engines.node of ./package.json?)
#
# The binaries come from the npm packages node-linux-<arch> (npm pack, checked against the
# registry's integrity hash), because the registry may be the only thing a machine reaches
# (nodejs.org may not be). They carry Node's headers too: npm_config_nodedir points node-gyp at
# them, so native addons (better-sqlite3) compile for this Node without a headers download.
#
# Each release lives in $KRAKEN_NODE_CACHE (default ~/.cache/kraken/node)/<version>-linux-<arch>;
# a major already there is used without asking the registry, so a second call is instant and
# works offline. Returns non-zero with a message on stderr when it cannot provide that Node.

node_supported() {
  local need have
  need=$(sed -n 's/^ *"node": ">=\([0-9.]*\)".*/\1/p' package.json 2>/dev/null | head -n 1)
  have=$(node -p process.versions.node 2>/dev/null) || return 1
  [ "$(printf '%s\n' "$need" "$have" | sort -V | head -n 1)" = "$need" ]
}

use_node() {
  local major=${1:?use_node: which major version?}
  local cache=${KRAKEN_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kraken/node}
  local arch
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *)
      echo "use-node: no Node.js package for $(uname -s) $(uname -m) on the npm registry; install Node $major yourself" >&2
      return 1
      ;;
  esac
  if [ "$(uname -s)" != Linux ]; then
    echo "use-node: only Linux is handled here; install Node $major yourself" >&2
    return 1
  fi

  local dir
  # newest cached release of that major first (version sort), so an update installed later wins
  dir=$(find "$cache" -mindepth 1 -maxdepth 1 -type d -name "$major.*-linux-$arch" 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] || ! "$dir/bin/node" --version >/dev/null 2>&1; then
    dir=$(_use_node_install "$major" "$arch" "$cache") || return 1
  fi
  case ":$PATH:" in
    ":$dir/bin:"*) ;; # already first
    *) PATH="$dir/bin:$PATH" ;;
  esac
  export PATH npm_config_nodedir="$dir"
  hash -r
}

# _use_node_install MAJOR ARCH CACHE: prints the installed folder
_use_node_install() {
  local major=$1 arch=$2 cache=$3 tmp version dir
  mkdir -p "$cache" || return 1
  # a temp folder in the cache, so the final rename stays on one file system (atomic)
  tmp=$(mktemp -d "$cache/.install-XXXXXX") || return 1
  echo "use-node: installing Node $major from the npm registry (node-linux-$arch@$major) into $cache" >&2
  if ! (cd "$tmp" && npm pack "node-linux-$arch@$major" --silent >pack.out 2>pack.err); then
    echo "use-node: npm pack node-linux-$arch@$major failed: $(tail -n 3 "$tmp/pack.err")" >&2
    rm -rf "$tmp"
    return 1
  fi
  tar -xzf "$tmp/$(tail -n 1 "$tmp/pack.out")" -C "$tmp" || { rm -rf "$tmp"; return 1; }
  version=$("$tmp/package/bin/node" --version 2>/dev/null) || {
    echo "use-node: the node binary from node-linux-$arch@$major does not run on this machine" >&2
    rm -rf "$tmp"
    return 1
  }
  version=${version#v}
  if [ "${version%%.*}" != "$major" ] || [ ! -f "$tmp/package/include/node/node.h" ]; then
    echo "use-node: node-linux-$arch@$major gave Node $version$([ -f "$tmp/package/include/node/node.h" ] || echo ' without headers')" >&2
    rm -rf "$tmp"
    return 1
  fi
  dir="$cache/$version-linux-$arch"
  # another run may have installed the same release meanwhile: keep the first one
  mv -T "$tmp/package" "$dir" 2>/dev/null || [ -x "$dir/bin/node" ] || { rm -rf "$tmp"; return 1; }
  rm -rf "$tmp"
  echo "$dir"
}
