#!/usr/bin/env bash
# Installs everything jupyter_syft needs on a fresh Debian machine: system packages, a
# virtualenv in .venv with the package (editable, labextension built) and its dev/test tools.
# Safe to run again: it only does what is missing. Sourced by start.sh and test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# bubblewrap: the sandbox for submitted code. nodejs/npm: the labextension build.
# postgresql: the tests run the store and end-to-end flows on PostgreSQL as well as SQLite.
# chromium: the browser of the JupyterLab UI tests (Galata uses it, never a Playwright download).
APT_PACKAGES=(bubblewrap nodejs npm postgresql chromium)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  case $pkg in
    # node may come from elsewhere than Debian (the image ships one): only install it if absent
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "==> installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv"
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true

stamp=.venv/.installed-$(cat pyproject.toml package.json yarn.lock 2>/dev/null | sha256sum | cut -c1-16)
if [[ ! -f $stamp || ! -f jupyter_syft/labextension/package.json ]]; then
  echo "==> installing jupyter_syft (editable) with its dev and test dependencies"
  python -m pip install -q -e ".[dev,test]" 2>&1 | grep -v '^WARNING: Location' || true
  python -c "import jupyter_syft" # fails loudly if the install did not work
  rm -f .venv/.installed-* && touch "$stamp"
fi

# Workers start with `python -B` (they never write into the tree) and an editable install has
# no bytecode: compile the package, readable by the workers' uid. Quick when nothing changed.
(umask 022 && python -m compileall -q -j0 jupyter_syft >/dev/null)

# JupyterLab loads the labextension from the venv's share/ folder: make that a link to the one
# `jlpm build` writes (the editable install leaves a copy there, which goes stale).
labext=.venv/share/jupyter/labextensions/jupyter-syft
if [[ ! -L $labext ]]; then
  echo "==> linking the labextension for development (jupyter labextension develop)"
  jupyter labextension develop . --overwrite >/dev/null
fi
