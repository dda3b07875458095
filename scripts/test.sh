#!/usr/bin/env bash
# Runs every check: formatting, lints, all tests (which start the real binary
# and talk to it over HTTP, ffmpeg and ffprobe), graph validation and schema drift.
# Installs what the tests need (ffmpeg) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
if ((${#missing[@]})); then
    echo "==> installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "==> cargo fmt --check"
cargo fmt --all --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test"
cargo test --workspace --locked

echo "==> ooblex validate graphs/*.yaml"
cargo run --quiet --locked -- validate graphs/*.yaml

echo "==> ooblex schema --check"
cargo run --quiet --locked -- schema --check schemas/graph.schema.json

echo "all checks passed"
