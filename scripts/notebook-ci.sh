#!/usr/bin/env bash
# Executes the notebooks of tp4 with the real Rust kernel (evcxr), headless.
#
# What CI (.ci/run) and the Docker build both run:
#   1. installs what is missing: evcxr_jupyter 0.22 (cargo install --locked, ~9 min on
#      2 cores, only when not on PATH) and nbclient in a Python venv;
#   2. registers the "rust" Jupyter kernel (evcxr_jupyter --install);
#   3. checks that tp4.ipynb and corrige/tp4.ipynb are what notebook/tp4.md generates;
#   4. executes corrige/tp4.ipynb: fails if a cell errors or panics, or if a check
#      cell does not print a success verdict;
#   5. executes the student tp4.ipynb: every check cell must report its question as
#      "pas encore faite" (the todo!()) without the run crashing.
#
# Usage: scripts/notebook-ci.sh [--only-corrected]
#   --only-corrected  skip step 5 (the Docker build uses it to fill evcxr's cache).
# Environment:
#   TP4_NB_VENV      the venv with nbclient (default: ~/.cache/tp4/nbvenv)
#   TP4_NB_OUT       where executed notebooks go (default: target/notebook-ci)
#   TP4_NB_TIMEOUT   seconds allowed per cell (default: 900)
#   TP4_NB_TOTAL     seconds allowed per notebook (default: 1800)
#   TP4_BIN          a built `tp4` binary to use instead of `cargo run -p tp4-cli`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${TP4_NB_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tp4/nbvenv}"
OUT="${TP4_NB_OUT:-$ROOT/target/notebook-ci}"
CELL_TIMEOUT="${TP4_NB_TIMEOUT:-900}"
TOTAL_TIMEOUT="${TP4_NB_TOTAL:-1800}"
EVCXR_VERSION="0.22.0"
ONLY_CORRECTED=0
for arg in "$@"; do
  case "$arg" in
    --only-corrected) ONLY_CORRECTED=1 ;;
    *) echo "notebook-ci.sh : option inconnue « $arg » (seule --only-corrected existe)" >&2; exit 2 ;;
  esac
done

step() { printf '\n== %s (%(%H:%M:%S)T)\n' "$1" -1; }
START=$SECONDS

step "noyau evcxr"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v evcxr_jupyter >/dev/null 2>&1; then
  echo "evcxr_jupyter absent : installation de la version $EVCXR_VERSION (environ 9 min sur 2 cœurs)"
  cargo install --locked evcxr_jupyter --version "$EVCXR_VERSION"
fi
echo "evcxr_jupyter : $(command -v evcxr_jupyter)"
evcxr_jupyter --install >/dev/null

step "environnement Python (nbclient)"
if ! "$VENV/bin/python" -c "import nbclient, nbformat" >/dev/null 2>&1; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check nbclient nbformat
fi
"$VENV/bin/python" -c "import nbclient; print('nbclient', nbclient.__version__)"

step "notebooks à jour avec notebook/tp4.md"
if [ -n "${TP4_BIN:-}" ]; then
  "$TP4_BIN" notebook --verifier
else
  cargo run --quiet -p tp4-cli -- notebook --verifier
fi

# Panics must not fill outputs with backtraces; the data files must exist.
export RUST_BACKTRACE=0
test -f data/transactions.csv && test -f data/corpus.txt

run_notebook() { # notebook expectation executed-copy
  local t0=$SECONDS
  timeout --kill-after=30 "$TOTAL_TIMEOUT" \
    "$VENV/bin/python" scripts/notebook_check.py run "$1" --expect "$2" \
    --out "$3" --timeout "$CELL_TIMEOUT"
  echo "durée : $((SECONDS - t0)) s"
}

step "notebook corrigé (toutes les vérifications doivent réussir)"
run_notebook corrige/tp4.ipynb passed "$OUT/corrige-tp4.ipynb"

if [ "$ONLY_CORRECTED" = 0 ]; then
  step "notebook étudiant (chaque question « pas encore faite », sans plantage)"
  run_notebook tp4.ipynb not-done "$OUT/tp4.ipynb"
fi

echo
echo "notebook-ci.sh : tout est passé en $((SECONDS - START)) s. Notebooks exécutés dans $OUT"
