#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run the whole suite.
# System packages (apt-get, as root or through sudo): LibreOffice Calc headless and its Python
# bridge (libreoffice-calc-nogui, python3-uno) for the cross-engine and edit tests, Debian's
# chromium for the dashboard's browser tests (driven by Playwright; never its own download), and
# python3-venv. Python packages: katsheet with its test extras, in a virtual environment (.venv,
# made here unless one is active). Under CI=true a missing tool fails the tests instead of
# skipping them. Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
/usr/bin/python3 -c "import uno" >/dev/null 2>&1 || need+=(python3-uno)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ -z "${VIRTUAL_ENV:-}" ] && ! python3 -m venv --help >/dev/null 2>&1; then need+=(python3-venv); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]} with apt-get"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -n "${VIRTUAL_ENV:-}" ]; then
  PY=python3
else
  [ -x .venv/bin/python ] || { echo "== making a virtual environment in .venv"; python3 -m venv .venv; }
  PY=.venv/bin/python
fi

echo "== installing katsheet and its test dependencies into $($PY -c 'import sys; print(sys.prefix)')"
$PY -m pip install -q --disable-pip-version-check -e ".[test]"

echo "== ruff"
$PY -m ruff check .
$PY -m ruff format --check .

echo "== pytest (progress: one dot per test; slow fixtures print [katsheet] lines while they work)"
$PY -m pytest -p no:cacheprovider "$@"
