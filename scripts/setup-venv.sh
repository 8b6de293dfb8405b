#!/usr/bin/env bash
# setup-venv.sh VENV_DIR REQUIREMENTS_FILE: create or refresh a Python venv from a pinned
# requirements file; does nothing when the file has not changed since the last install.
set -euo pipefail
venv="$1"; req="$2"
PY="${PYTHON:-python3}"
sum="$(sha256sum "$req" | cut -c1-16)"
if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$sum" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi
printf '[setup] creating Python environment %s from %s\n' "$venv" "$(basename "$req")" >&2
rm -rf "$venv"
"$PY" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$sum" > "$venv/.stamp"
