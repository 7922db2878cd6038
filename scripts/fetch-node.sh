#!/usr/bin/env bash
# Prints the path of the official Node binary of an exact version, fetched once from the npm
# registry's node-linux-<arch> package (npm pack checks it against the registry's integrity) into
# a cache outside the clone, keyed by version and reused after. The CI matrix (.ci/run) and the
# offline base image (docker/make-base-image.sh) take their Node from here. The package holds the
# node binary only, no npm.
#
#   scripts/fetch-node.sh 24.22.3     # prints /var/cache/beia-kit/node/24.22.3/bin/node (as root)
#
# Environment: BEIA_NODE_CACHE (default /var/cache/beia-kit/node as root, else
# ${XDG_CACHE_HOME:-~/.cache}/beia-kit/node).
set -euo pipefail

fail() { echo "fetch-node: $*" >&2; exit 1; }
version=${1:-}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "fetch-node: expected an exact Node version such as 24.22.3, got \"$version\"." >&2; exit 2; }
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) fail "no node-linux package for $(uname -m); set the Node binary yourself." ;;
esac
if [ -n "${BEIA_NODE_CACHE:-}" ]; then
  cache=$BEIA_NODE_CACHE
elif [ "$(id -u)" = 0 ]; then
  # Readable by every user: a test runs the binary as nobody (test/cli.test.ts), which /root is not.
  cache=/var/cache/beia-kit/node
else
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/beia-kit/node
fi
node="$cache/$version/bin/node"

if [ -x "$node" ] && [ "$("$node" --version 2>/dev/null)" = "v$version" ]; then
  echo "$node"
  exit 0
fi

mkdir -p "$cache"
# Unpacked beside its final place, then moved there in one step: a run stopped half-way, or two
# runs at once, never leave a half-written binary under the version's name.
tmp=$(mktemp -d "$cache/.fetch-$version-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "fetch-node: npm pack node-linux-$arch@$version into $cache" >&2
if ! (cd "$tmp" && npm pack --silent --no-audit --no-fund "node-linux-$arch@$version" >pack.log 2>&1); then
  tail -n 5 "$tmp/pack.log" >&2
  fail "npm pack node-linux-$arch@$version failed (above): no registry, or no such version (npm view node-linux-$arch versions)."
fi
tar -xzf "$tmp"/node-linux-"$arch"-"$version".tgz -C "$tmp" package/bin/node package/LICENSE
[ "$("$tmp/package/bin/node" --version)" = "v$version" ] || fail "the binary in node-linux-$arch@$version does not say v$version."
chmod 755 "$tmp/package" "$tmp/package/bin"
rm -rf "$cache/$version"
mv -T "$tmp/package" "$cache/$version" 2>/dev/null || [ -x "$node" ] || fail "could not move the binary into $cache/$version."
echo "$node"
