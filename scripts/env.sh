# Sourced by scripts/site.sh and scripts/test.sh: create .venv and install the pinned environment.
# Installs only when pyproject.toml or constraints.txt changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.10 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  echo "llmnotes needs Python 3.10 or newer (set PYTHON=/path/to/python3.11)" >&2
  exit 2
}

VENV="${LLMNOTES_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$(pick_python)" -m venv "$VENV"
fi
stamp="$VENV/.llmnotes-installed"
wanted="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "==> installing llmnotes and its pinned dependencies into $VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e ".[test]"
  echo "$wanted" > "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"
export NO_MKDOCS_2_WARNING=1
