#!/usr/bin/env bash
# Create .venv with the Python named in .python-version and install the pinned
# dependencies of requirements.lock (the services') and requirements-dev.lock
# (tests and lint). Safe to run again: it does nothing when
# the lock file has not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(tr -d '[:space:]' < .python-version)
minor="${want%.*}"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
# Any 3.10.x will do (Rasa 3.6 needs 3.10); prefer the exact one named.
other=$(ls -d "$pyenv_root"/versions/"$minor".* 2>/dev/null | sort -V | tail -n 1 || true)
if [ -x "$pyenv_root/versions/$want/bin/python" ]; then
  python="$pyenv_root/versions/$want/bin/python"
elif [ -n "$other" ] && [ -x "$other/bin/python" ]; then
  python="$other/bin/python"
elif command -v pyenv >/dev/null 2>&1; then
  if ! pyenv prefix "$want" >/dev/null 2>&1; then
    echo "Installing Python $want with pyenv..." >&2
    pyenv install -s "$want"
  fi
  python="$(pyenv prefix "$want")/bin/python"
elif command -v "python$minor" >/dev/null 2>&1; then
  python="python$minor"
else
  echo "Python $minor is needed (Rasa 3.6 runs on 3.10): install pyenv, or python$minor." >&2
  exit 1
fi

# The staff pages' browser test drives Debian's Chromium: a browser download
# of Playwright's own is not possible here, nor wanted.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests..." >&2
    apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
      || echo "Could not install chromium: the browser tests will fail until it is installed." >&2
  else
    echo "chromium is not installed (apt-get install chromium): the browser tests need it." >&2
  fi
fi

# axe-core for the accessibility checks in the browser tests, from the npm
# registry at the version package-lock.json pins.
if command -v npm >/dev/null 2>&1; then
  npm_stamp="node_modules/.installed-$(sha256sum < package-lock.json | cut -c1-16)"
  if [ ! -f "$npm_stamp" ]; then
    echo "Installing axe-core for the accessibility tests..." >&2
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    touch "$npm_stamp"
  fi
else
  echo "npm is not installed: the accessibility checks of the browser tests will fail until it is." >&2
fi

stamp=".venv/.installed-$(cat requirements.lock requirements-dev.lock | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import sys; sys.exit(f'{sys.version_info[0]}.{sys.version_info[1]}' != '$minor')"; then
  echo "Recreating .venv for Python $minor..." >&2
  rm -rf .venv
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
echo "Installing pinned dependencies (a few minutes the first time)..." >&2
.venv/bin/python -m pip install --quiet --upgrade "pip==24.0"
# --no-deps: the lock pins every package; see requirements.in for why.
.venv/bin/python -m pip install --quiet --no-deps -r requirements.lock -r requirements-dev.lock
rm -f .venv/.installed-*
touch "$stamp"
