#!/usr/bin/env bash
# npm run standin -- [--serve gradio|fastapi|grpc|openai|asr] [--variant official] [--model cosyvoice3] [--port P] [fault knobs]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${STANDIN_PYTHON:-$ROOT/apps/standin/.venv/bin/python}"
[ "${1:-}" = "--" ] && shift
exec "$PY" "$ROOT/apps/standin/app.py" "$@"
