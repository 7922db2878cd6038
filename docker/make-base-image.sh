#!/usr/bin/env bash
# Makes node:20-bookworm-slim on this machine, for Docker engines that cannot pull it (air-gapped
# machines, CI without a registry), so that docker/Dockerfile builds unchanged with --pull=false.
#
#   sudo docker/make-base-image.sh            # makes it if the engine does not have it yet
#   sudo docker/make-base-image.sh --force    # makes it again
#
# What it is: Debian bookworm (debootstrap --variant=minbase, from this machine's Debian mirror),
# this machine's own Node 20 binary and npm in /usr/local, and a user "node" (uid 1000), the
# parts of the official image that docker/Dockerfile relies on. Needs root, debootstrap and Node 20.
# Environment: BEIA_BASE_IMAGE (default node:20-bookworm-slim), DEBIAN_MIRROR (default: the
# first Debian URI in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list).
set -euo pipefail

image=${BEIA_BASE_IMAGE:-node:20-bookworm-slim}
fail() { echo "make-base-image: $*" >&2; exit 1; }

if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "make-base-image: $image is already there; reusing it (--force makes it again)."
  exit 0
fi

[ "$(id -u)" = 0 ] || fail "debootstrap needs root: run it with sudo, or as root."
command -v debootstrap >/dev/null || fail "debootstrap is missing: apt-get install debootstrap."
node_bin=$(command -v node) || fail "node is missing: the image takes this machine's Node 20 binary."
node_bin=$(readlink -f "$node_bin")
node_version=$("$node_bin" --version)
case "$node_version" in v20.*) ;; *) fail "this machine's node is $node_version; the image needs Node 20 (node:20-bookworm-slim)." ;; esac
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

echo "make-base-image: adding Node $node_version and npm $(node "$npm_dir/bin/npm-cli.js" --version)"
install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" /usr/local/bin/node --version >/dev/null || fail "the copied node does not run inside bookworm."
# The official image's user, which docker/Dockerfile runs as.
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/tmp/* "$root"/var/log/*.log

tar --numeric-owner -C "$root" -c . | docker import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change 'LABEL org.opencontainers.image.description="node:20-bookworm-slim made offline by beia-kit docker/make-base-image.sh"' \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "make-base-image: made $image ($(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
