#!/usr/bin/env bash
# Start Autograd Explorer (sets everything up on first run). Arguments go to main.py,
# e.g. ./run.sh compute 'f = w**2' --var w=3
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh   # takes no arguments
exec "$AUTOGRAD_EXPLORER_PYTHON" main.py "$@"
