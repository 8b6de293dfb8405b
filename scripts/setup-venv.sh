#!/usr/bin/env bash
# setup-venv.sh VENV_DIR REQUIREMENTS_FILE: create or refresh a Python venv from a pinned
# requirements file; does nothing when the file has not changed since the last install.
#
# The venvs are made with uv (PyPI's `uv`, pinned below, installed into .tools/uv on first use):
# it installs the stand-in's requirements in about 1 s from its cache and 3 s from PyPI, where
# pip took 40 s, unpacking every wheel again each time. Without uv (it could not be installed),
# pip does the same job, more slowly.
set -euo pipefail
venv="$1"; req="$2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
UV_VERSION=0.13.9
UV_DIR="$ROOT/.tools/uv"
sum="$(sha256sum "$req" | cut -c1-16)"
if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$sum" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi

# uv, once per checkout: with this Python's pip when it has one (--target installs no package
# into that Python), else from a venv of its own.
uv=""
if [ -f "$UV_DIR/.version" ] && [ "$(cat "$UV_DIR/.version")" = "$UV_VERSION" ]; then
  uv="$UV_DIR/bin/uv"
else
  rm -rf "$UV_DIR"
  if "$PY" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-warn-script-location \
      --target "$UV_DIR" "uv==$UV_VERSION" >/dev/null 2>&1 \
    || { "$PY" -m venv "$UV_DIR" >/dev/null 2>&1 \
      && "$UV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" >/dev/null 2>&1; }; then
    echo "$UV_VERSION" > "$UV_DIR/.version"
    uv="$UV_DIR/bin/uv"
  else
    rm -rf "$UV_DIR"
    printf '[setup] uv could not be installed; using pip\n' >&2
  fi
fi

printf '[setup] creating Python environment %s from %s\n' "$venv" "$(basename "$req")" >&2
rm -rf "$venv"
if [ -n "$uv" ]; then
  "$uv" venv --quiet --python "$PY" "$venv"
  VIRTUAL_ENV="$venv" "$uv" pip install --quiet -r "$req"
else
  "$PY" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
fi
echo "$sum" > "$venv/.stamp"
