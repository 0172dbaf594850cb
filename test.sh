#!/usr/bin/env bash
# Run the whole test suite (sets everything up on first run). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
export AUTOGRAD_EXPLORER_TESTS=1
source scripts/bootstrap.sh   # takes no arguments
export QT_QPA_PLATFORM=offscreen
exec "$AUTOGRAD_EXPLORER_PYTHON" -m pytest "$@"
