#!/usr/bin/env bash
# Creates the stand-in's compatibility environments: apps/standin/.venv-5x (newest gradio 5.x)
# and apps/standin/.venv-6x (newest gradio 6.x). Idempotent: each is rebuilt only when its
# requirements file changed. Used by `pnpm test:compat`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for v in 5x 6x; do
  bash "$ROOT/scripts/setup-venv.sh" "$ROOT/apps/standin/.venv-$v" "$ROOT/apps/standin/requirements-$v.txt"
done
