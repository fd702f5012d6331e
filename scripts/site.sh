#!/usr/bin/env bash
# Build the site from a fresh checkout: environment, stale experiments, `mkdocs build --strict`.
# Offline (no route to the hub, or --offline) it uses the packaged and local assets only.
source "$(dirname "$0")/env.sh"
echo "==> regenerating stale metrics and figures"
llmnotes regenerate "$@"
echo "==> building the site"
llmnotes build
echo "Serve it with: .venv/bin/llmnotes serve   (then open http://127.0.0.1:8000/llmnotes/)"
