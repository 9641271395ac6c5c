#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run the whole suite.
# System packages: LibreOffice (headless Calc) for the cross-engine tests. Python: katsheet[test].
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v soffice >/dev/null 2>&1 || ! /usr/bin/python3 -c "import uno" >/dev/null 2>&1; then
  echo "== installing LibreOffice (libreoffice-calc-nogui, python3-uno for the edit tests) with apt-get"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui python3-uno >/dev/null
fi

echo "== installing katsheet and its test dependencies"
python3 -m pip install -q --disable-pip-version-check -e ".[test]"

echo "== ruff"
python3 -m ruff check .
python3 -m ruff format --check .

echo "== pytest"
python3 -m pytest -q "$@"
