#!/usr/bin/env bash
# Set up everything Autograd Explorer needs, idempotently; sourced by run.sh and test.sh.
#   1. system packages: Graphviz's dot and the Qt runtime libraries (apt-get, when root or
#      sudo can run it; otherwise the exact install line is printed and set-up carries on);
#   2. a virtual environment in .venv with the Python dependencies (reinstalled only when
#      pyproject.toml or the constraints change).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(graphviz libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxkbcommon-x11-0 fonts-dejavu-core libcairo2)
# the tests also read the exported PDFs back with poppler's pdfinfo/pdftotext/pdftoppm,
# and load the exported web page in a real headless browser (Chromium through Selenium)
if [[ ${AUTOGRAD_EXPLORER_TESTS:-0} == 1 ]]; then
  APT_PACKAGES+=(poppler-utils chromium chromium-driver)
fi

missing=()
if command -v dpkg-query >/dev/null; then
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi
python_ok=1
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || python_ok=0
venv_ok=1
python3 -c 'import venv, ensurepip' 2>/dev/null || venv_ok=0
if ((!venv_ok)); then missing+=(python3-venv); fi

if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
  fi
  if [[ $sudo != none ]] && command -v apt-get >/dev/null; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp /tmp/autograd-explorer-apt.XXXX.log)
    $sudo apt-get update -qq >"$log" 2>&1 || say "apt-get update failed; trying the install anyway"
    if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
      tail -5 "$log" >&2
      say "apt-get could not install everything (log: $log); the app will say what is missing"
    fi
  else
    say "some system packages are missing; install them with:"
    say "  sudo apt-get install -y ${missing[*]}"
    say "carrying on: without graphviz the app still computes values and gradients"
  fi
fi
# Chromium's driver talks to the browser at "localhost"; every installed Debian system resolves
# it through /etc/hosts, but a bare root (a container, a debootstrap) may have none
if [[ ${AUTOGRAD_EXPLORER_TESTS:-0} == 1 ]] && ! getent hosts localhost >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    say "localhost does not resolve; adding Debian's standard '127.0.0.1 localhost' to /etc/hosts"
    echo "127.0.0.1 localhost" >> /etc/hosts
  else
    say "localhost does not resolve (the browser tests need it): add '127.0.0.1 localhost' to /etc/hosts"
  fi
fi
if ((!python_ok)); then
  say "Python 3.11 or newer is needed (found: $(python3 --version 2>&1)); install python3.11"
  exit 1
fi

venv=$root/.venv
if [[ ! -x $venv/bin/python ]]; then
  say "creating the virtual environment in .venv"
  python3 -m venv "$venv"
fi
stamp=$venv/.autograd-explorer-installed
want=$(cat pyproject.toml scripts/constraints.txt | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  say "installing Python packages (torch CPU build, PySide6, graphviz, torchviz, pytest-qt...)"
  "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  piplog=$venv/pip-install.log
  if ! "$venv/bin/python" -m pip install -c scripts/constraints.txt -e ".[test]" >"$piplog" 2>&1 \
      || ! "$venv/bin/python" -c "import torch, PySide6, graphviz, torchviz, pytest, pytestqt"; then
    grep -vE "^WARNING: (Location|Skipping)" "$piplog" | tail -25 >&2
    say "the Python packages did not install (full log: $piplog)"
    exit 1
  fi
  echo "$want" > "$stamp"
fi
export AUTOGRAD_EXPLORER_PYTHON=$venv/bin/python
