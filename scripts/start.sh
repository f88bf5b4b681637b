#!/usr/bin/env bash
# Installs everything (scripts/setup.sh), then starts the Binder demo locally: JupyterLab on
# http://127.0.0.1:8888 (PORT=... to change it) with the jupyter_syft extension, its Datasite
# seeded with scikit-learn's breast-cancer data, and the guided notebooks of binder/notebooks/.
#
# The demo Datasite starts empty at each start, as on Binder (its data: ~/.jupyter_syft/demo);
# `--keep` keeps the previous one. Other arguments go to `jupyter lab`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

reset=1
lab_args=()
for arg in "$@"; do
  if [[ $arg == --keep ]]; then reset=0; else lab_args+=("$arg"); fi
done
export JUPYTER_SYFT_DEMO_RESET=${JUPYTER_SYFT_DEMO_RESET:-$reset}
[[ $(id -u) -eq 0 ]] && lab_args+=(--allow-root)

port=${PORT:-8888}
echo "==> JupyterLab with the demo Datasite on http://127.0.0.1:$port/ (open the URL with the"
echo "    token printed below; Ctrl-C stops it)"
# binder/start sets up the Datasite exactly as on Binder, then runs JupyterLab.
exec binder/start jupyter lab --ip 127.0.0.1 --port "$port" --no-browser \
  --ServerApp.root_dir="$PWD" \
  --LabApp.default_url=/lab/tree/binder/notebooks/01-data-owner-setup.ipynb \
  ${lab_args[@]+"${lab_args[@]}"}
