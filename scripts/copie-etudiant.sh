#!/usr/bin/env bash
# Builds the student-only copy of the lab: the repository without the teacher's material.
#
#   scripts/copie-etudiant.sh DOSSIER
#
# DOSSIER (new or empty) receives the files of the repository (those git tracks, plus new
# files not ignored; neither target/ nor output/), except:
#   - corrige/ (the corrected notebook), notebook/tp4.md (its source, solutions included)
#     and the test that compares the two (crates/tp4/tests/notebook.rs);
#   - docs/verifications.md (what each check requires) and docs/correction.md (grading a
#     class with `tp4 corriger`: marking scheme, threat model);
#   - in README*.md and docs/*.md, the blocks between the lines `<!-- enseignant -->` and
#     `<!-- /enseignant -->` (reference solutions, what the measures must show);
# and checks that nothing of that material is left. The copy keeps the student notebook
# tp4.ipynb, the library, the data and the CLI: `cargo run --release` and the notebook
# work in it as in the repository.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage : scripts/copie-etudiant.sh DOSSIER (nouveau ou vide)" >&2
  exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$1"
if [ -e "$DEST" ] && [ -n "$(ls -A "$DEST" 2>/dev/null)" ]; then
  echo "copie-etudiant.sh : « $DEST » existe et n'est pas vide : choisissez un dossier neuf" >&2
  exit 1
fi
mkdir -p "$DEST"

# The files to copy: git's list when the repository has one, else the tree itself.
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
    grep -zv -e '^corrige/' -e '^target/' -e '^output/' -e '^notebook/tp4\.md$' \
      -e '^crates/tp4/tests/notebook\.rs$' -e '^docs/verifications\.md$' \
      -e '^docs/correction\.md$' |
    (cd "$ROOT" && xargs -0 -r sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh) |
    (cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$DEST"
else
  (cd "$ROOT" && tar --exclude=./corrige --exclude=./target --exclude=./output --exclude=./.git \
    --exclude=./notebook/tp4.md --exclude=./crates/tp4/tests/notebook.rs \
    --exclude=./docs/verifications.md --exclude=./docs/correction.md -cf - .) |
    tar -xf - -C "$DEST"
fi

# Teacher-only blocks of the docs and READMEs.
strip_teacher() {
  awk '/^<!-- enseignant -->$/ { skip = 1; next }
       /^<!-- \/enseignant -->$/ { skip = 0; next }
       !skip' "$1" >"$1.tmp"
  mv "$1.tmp" "$1"
}
for f in "$DEST"/README*.md "$DEST"/docs/*.md; do
  [ -f "$f" ] && strip_teacher "$f"
done

# What must not be left.
if [ -e "$DEST/corrige" ] || [ -e "$DEST/docs/verifications.md" ] || [ -e "$DEST/docs/correction.md" ] || grep -rqs 'SOLUTION BEGIN' "$DEST/notebook" "$DEST/tp4.ipynb"; then
  echo "copie-etudiant.sh : corrige/, un document enseignant (docs/verifications.md, docs/correction.md) ou une solution du notebook est encore là" >&2
  exit 1
fi
if grep -rl -e '<!-- enseignant -->' "$DEST"/README*.md "$DEST"/docs 2>/dev/null; then
  echo "copie-etudiant.sh : un bloc réservé à l'enseignant est resté (marqueurs non fermés ?)" >&2
  exit 1
fi
echo "Copie étudiante prête dans $DEST ($(find "$DEST" -type f | wc -l) fichiers, sans corrige/ ni les parties enseignant de la documentation)."
