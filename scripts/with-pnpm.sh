#!/usr/bin/env bash
# Runs the workspace's pinned pnpm (installed by setup.sh into .tools/) with its arguments.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/.tools/node_modules/.bin:$ROOT/node_modules/.bin:$PATH"
cd "$ROOT"
exec pnpm "$@"
