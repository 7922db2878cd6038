#!/usr/bin/env bash
# npm run docker:build: builds beia-kit/mock:<package version> and beia-kit/mock:latest from
# docker/Dockerfile, on Node 24 (scripts/node-versions.sh). The base goes in through the
# Dockerfile's NODE_IMAGE build argument: the official node:24-bookworm-slim, pulled when the
# engine lacks it; where it cannot be pulled (no registry reachable), beia-kit/node-base:<Node
# version>-bookworm, made here with docker/make-base-image.sh (needs root and debootstrap): our
# own name, so it never shadows the official image for the engine's other projects.
#
#   npm run docker:build                 # pulls node:24-bookworm-slim if it can, else makes our own base
#   npm run docker:build -- --offline    # never tries a registry: makes beia-kit/node-base:24.x.y-bookworm when missing
#   BEIA_NODE_VERSION=22.23.5 npm run docker:build             # another Node: node:22-bookworm-slim, or our own base of 22.23.5
#   BEIA_BASE_IMAGE=registry.example.com/node:24 npm run docker:build   # any base image of yours
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/node-versions.sh
. scripts/node-versions.sh

node_version=${BEIA_NODE_VERSION:-$BEIA_IMAGE_NODE}
[[ "$node_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "docker:build: BEIA_NODE_VERSION is \"$node_version\"; expected an exact Node version such as $BEIA_IMAGE_NODE." >&2; exit 2; }
official=node:${node_version%%.*}-bookworm-slim
own=beia-kit/node-base:$node_version-bookworm
version=$(node -p 'require("./package.json").version')
offline=${BEIA_DOCKER_OFFLINE:-0}
for arg in "$@"; do
  case "$arg" in
    --offline) offline=1 ;;
    *) echo "docker:build: unknown option \"$arg\"; the only one is --offline." >&2; exit 2 ;;
  esac
done

docker info >/dev/null 2>&1 || { echo "docker:build: no Docker engine answers (docker info failed). Start one, or set DOCKER_HOST." >&2; exit 1; }

# Bases that an older docker/make-base-image.sh made under an official name (node:20-bookworm-slim),
# which shadow the real image for every project on this engine: found by the label it gave them,
# which names the image itself ("node:20-bookworm-slim made offline by beia-kit ..."; an image built
# on it inherits the label, under another name, and is left alone), and untagged (their layers go
# with the last image built on them).
for name in $(docker images --format '{{.Repository}}:{{.Tag}}' | grep -v -e '^beia-kit/' -e '<none>' || true); do
  description=$(docker image inspect --format '{{index .Config.Labels "org.opencontainers.image.description"}}' "$name" 2>/dev/null || true)
  case "$description" in
    "$name made offline by beia-kit docker/make-base-image.sh"*)
      if docker rmi "$name" >/dev/null 2>&1; then
        echo "docker:build: removed $name, a base an older beia-kit made offline under the official image's name (it shadowed the real one); the offline base is now $own."
      else
        echo "docker:build: could not remove $name, a base an older beia-kit made offline under the official image's name; remove it yourself (docker rmi $name)." >&2
      fi
      ;;
  esac
done

pull() { if command -v timeout >/dev/null; then timeout 300 docker pull "$1"; else docker pull "$1"; fi; }
make_base() {
  echo "docker:build: making $own from Debian and the official Node $node_version (docker/make-base-image.sh)."
  if [ "$(id -u)" = 0 ]; then
    BEIA_NODE_VERSION="$node_version" BEIA_BASE_IMAGE="$own" docker/make-base-image.sh
  else
    sudo -n env "PATH=$PATH" BEIA_NODE_VERSION="$node_version" BEIA_BASE_IMAGE="$own" DOCKER_HOST="${DOCKER_HOST:-}" docker/make-base-image.sh
  fi
}
if [ -n "${BEIA_BASE_IMAGE:-}" ]; then
  base=$BEIA_BASE_IMAGE
  if ! docker image inspect "$base" >/dev/null 2>&1 && { [ "$offline" = 1 ] || ! pull "$base"; }; then
    echo "docker:build: BEIA_BASE_IMAGE=$base is not on this engine and cannot be pulled here; unset it to use $official or $own." >&2
    exit 1
  fi
elif [ "$offline" = 1 ]; then
  base=$own
  docker image inspect "$base" >/dev/null 2>&1 || make_base
elif docker image inspect "$official" >/dev/null 2>&1 || pull "$official"; then
  base=$official
else
  echo "docker:build: $official cannot be pulled here."
  base=$own
  docker image inspect "$base" >/dev/null 2>&1 || make_base
fi

# An engine without a bridge network (dockerd --bridge=none) gives build steps no network unless
# they share the host's; npm ci needs the registry.
network=()
docker network inspect bridge >/dev/null 2>&1 || network=(--network host)

# A registry behind a TLS-intercepting proxy: let npm in the build trust what npm here trusts.
ca=${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}
if [ -n "$ca" ] && [ "$ca" != null ] && [ "$ca" != undefined ] && [ -r "$ca" ]; then
  cp "$ca" docker/certs/build-ca.pem
  trap 'rm -f docker/certs/build-ca.pem' EXIT
fi

started=$(date +%s)
docker build --pull=false ${network[@]+"${network[@]}"} -f docker/Dockerfile \
  --build-arg "NODE_IMAGE=$base" \
  -t "beia-kit/mock:$version" -t beia-kit/mock:latest .
size=$(docker image inspect --format '{{.Size}}' "beia-kit/mock:$version" | awk '{printf "%.0f MB", $1/1e6}')
runs=$(docker run --rm --network none --entrypoint node "beia-kit/mock:$version" --version)
echo "docker:build: beia-kit/mock:$version and :latest on $base (Node $runs), $size, in $(( $(date +%s) - started )) s"
