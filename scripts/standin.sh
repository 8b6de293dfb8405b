#!/usr/bin/env bash
# pnpm standin -- --variant official --model cosyvoice3 --port 7860 [fault knobs]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${STANDIN_PYTHON:-$ROOT/apps/standin/.venv/bin/python}"
[ "${1:-}" = "--" ] && shift
exec "$PY" "$ROOT/apps/standin/app.py" "$@"
