#!/usr/bin/env bash
# npm run docker:build: builds beia-kit/mock:<package version> and beia-kit/mock:latest from
# docker/Dockerfile. When the engine has no node:20-bookworm-slim and cannot pull it (no registry
# reachable), it makes one with docker/make-base-image.sh first (needs root and debootstrap).
#
#   npm run docker:build                 # pulls the base if it can, else makes it
#   npm run docker:build -- --offline    # never tries a registry: makes the base when missing
set -euo pipefail
cd "$(dirname "$0")/.."

base=${BEIA_BASE_IMAGE:-node:20-bookworm-slim}
version=$(node -p 'require("./package.json").version')
offline=${BEIA_DOCKER_OFFLINE:-0}
for arg in "$@"; do
  case "$arg" in
    --offline) offline=1 ;;
    *) echo "docker:build: unknown option \"$arg\"; the only one is --offline." >&2; exit 2 ;;
  esac
done

docker info >/dev/null 2>&1 || { echo "docker:build: no Docker engine answers (docker info failed). Start one, or set DOCKER_HOST." >&2; exit 1; }

pull() { if command -v timeout >/dev/null; then timeout 300 docker pull "$1"; else docker pull "$1"; fi; }
if ! docker image inspect "$base" >/dev/null 2>&1; then
  if [ "$offline" = 1 ] || ! pull "$base"; then
    echo "docker:build: $base cannot be pulled here; making it from Debian and this machine's Node (docker/make-base-image.sh)."
    if [ "$(id -u)" = 0 ]; then
      BEIA_BASE_IMAGE="$base" docker/make-base-image.sh
    else
      sudo -n env "PATH=$PATH" BEIA_BASE_IMAGE="$base" DOCKER_HOST="${DOCKER_HOST:-}" docker/make-base-image.sh
    fi
  fi
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
echo "docker:build: beia-kit/mock:$version and :latest, $size, in $(( $(date +%s) - started )) s"
