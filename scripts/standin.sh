#!/usr/bin/env bash
# npm run standin -- [--serve gradio|fastapi|grpc|openai|asr] [--variant official] [--model cosyvoice3] [--port P] [fault knobs]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${STANDIN_PYTHON:-$ROOT/apps/standin/.venv/bin/python}"
[ "${1:-}" = "--" ] && shift
# Under a test run with the stand-in's fork server (STANDIN_ZYGOTE, see
# packages/testkit/src/standin-zygote.ts), the same app.py is forked from it: gradio is imported once.
if [ -n "${STANDIN_ZYGOTE:-}" ] && [ "$STANDIN_ZYGOTE" != off ] && [ -S "$STANDIN_ZYGOTE" ] && [ -z "${STANDIN_PYTHON:-}" ]; then
  exec "$PY" -S "$ROOT/apps/standin/fork_client.py" "$STANDIN_ZYGOTE" "$@"
fi
exec "$PY" "$ROOT/apps/standin/app.py" "$@"
