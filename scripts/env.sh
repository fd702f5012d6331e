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
# What to install: "site" (build the site) or "site,test" (scripts/test.sh sets it).
EXTRAS="${LLMNOTES_EXTRAS:-site}"
stamp="$VENV/.llmnotes-installed"
wanted="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
read -r have_hash have_extras < "$stamp" 2>/dev/null || true
missing=""
for extra in ${EXTRAS//,/ }; do
  case ",${have_extras:-}," in *",$extra,"*) ;; *) missing="yes" ;; esac
done
if [ "${have_hash:-}" != "$wanted" ] || [ -n "$missing" ]; then
  [ "${have_hash:-}" = "$wanted" ] && EXTRAS="$have_extras,$EXTRAS"
  echo "==> installing llmnotes[$EXTRAS] and its pinned dependencies into $VENV"
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt --upgrade pip  # pip itself pinned
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e ".[$EXTRAS]"
  echo "$wanted $EXTRAS" > "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"
export NO_MKDOCS_2_WARNING=1
