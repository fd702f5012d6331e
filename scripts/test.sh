#!/usr/bin/env bash
# Run the whole test suite (unit, parity, docs examples, site build, browser) in the pinned env.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k assets`.
LLMNOTES_EXTRAS=site,test source "$(dirname "$0")/env.sh"
echo "==> ruff"
ruff check llmnotes tests scripts
ruff format --check llmnotes tests scripts
echo "==> pytest"
python -m pytest "$@"
