#!/usr/bin/env bash
# Installs everything, then starts a standalone Datasite seeded with the breast-cancer demo
# dataset on http://127.0.0.1:8083 (root: info@openmined.org, password from
# JUPYTER_SYFT_ROOT_PASSWORD, default "changethis" here for the demo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
export JUPYTER_SYFT_ROOT_PASSWORD=${JUPYTER_SYFT_ROOT_PASSWORD:-changethis}
exec jupyter-syft serve --name demo --port "${PORT:-8083}" --seed-demo "$@"
