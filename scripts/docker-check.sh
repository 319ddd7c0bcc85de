#!/usr/bin/env bash
# Checks the Dockerfile, .dockerignore and docker-compose.yml without a Docker engine
# (scripts/docker-e2e.sh builds and runs the image where an engine is reachable):
#   - docker-compose.yml is valid for Compose (`docker compose config`, or the
#     docker-compose package from Debian when no Docker CLI is there: it validates
#     the file against the Compose schema without contacting an engine);
#   - the compose service publishes 8888 on 127.0.0.1 only, mounts folders only (a
#     single-file mount of the notebook goes stale when the host replaces the file),
#     the repository at /app/notebooks, data/ and output/ as the Dockerfile lays out;
#   - the build context (.dockerignore, evaluated with Docker's own rules when the
#     Python `docker` package is there) holds what the Dockerfile copies and nothing the
#     lab edits or creates: not tp4.ipynb, corrige/, output/, target/, nor data/ and
#     the folders the lab adds there (data/bench/, data/grand/); it stays small;
#   - the layers that compile (cargo install, cargo fetch/build, the notebook run) come
#     before anything students or teachers edit, so editing never rebuilds them;
#   - no layer duplicates another (`chmod -R`/`chown -R` only on what the same RUN
#     created) and none leaves caches or temporary files (apt lists, pip cache, cargo
#     registry of `cargo install`, /tmp after the notebook run);
#   - the Dockerfile copies files that exist, runs as a normal user, is offline once
#     built, installs rust-src explicitly, prebuilds by running the same script as CI
#     (scripts/notebook-ci.sh), and its start command works for any uid, root included
#     (--allow-root), with the Rust kernel as the default kernel.
# Usage: scripts/docker-check.sh      (exit 1 with the list of problems)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  echo "docker-compose absent : installation du paquet Debian (validation sans moteur Docker)"
  if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq docker-compose >/dev/null
  COMPOSE=(docker-compose)
fi

problems=()
fail() { problems+=("$1"); }

config="$("${COMPOSE[@]}" -f docker-compose.yml config)" || {
  echo "docker-compose.yml invalide (voir le message ci-dessus)"
  exit 1
}
has() { grep -Fq -- "$1" <<<"$config" || fail "docker-compose.yml : « $1 » attendu dans la configuration"; }
has "  jupyter:"
has "127.0.0.1:8888:8888"
has ":/app/notebooks"
has ":/app/data"
has ":/app/output"
grep -Eq '^\s*#\s*deploy:' docker-compose.yml || fail "docker-compose.yml : limites deploy.resources commentées absentes"
grep -Eq '^\s*#\s*memory:' docker-compose.yml || fail "docker-compose.yml : limite mémoire commentée absente"
grep -Eq '^\s*#\s*cpus:' docker-compose.yml || fail "docker-compose.yml : limite CPU commentée absente"
if grep -Eq -- '--(ServerApp|NotebookApp|IdentityProvider)\.token=' Dockerfile docker-compose.yml scripts/docker-start.sh 2>/dev/null; then
  fail "le jeton de JupyterLab ne doit pas être désactivé"
fi

# Defect 6: only folders are mounted (a single file goes stale once replaced on the host).
while read -r src; do
  [ -n "$src" ] || continue
  if [ -f "$src" ]; then
    fail "docker-compose.yml : montage d'un fichier seul ($src) : il se périme quand le fichier est remplacé sur l'hôte ; montez un dossier"
  fi
done < <(sed -nE 's/^ *- *([^:]+):\/app\/.*$/\1/p' <<<"$config" | sed 's/^ *//')
grep -Eq -- '^ *- *[^:]+:/app/notebooks(:rw)? *$' <<<"$config" || fail "docker-compose.yml : un dossier doit être monté sur /app/notebooks"
for doc in README.md docs/docker.md; do
  if grep -Eq -- 'tp4\.ipynb:/app/' "$doc"; then
    fail "$doc : montage du seul fichier tp4.ipynb (-v ...tp4.ipynb:/app/...) : montez le dossier du dépôt"
  fi
done

# The Dockerfile, one instruction per entry (continuation lines joined, comments out).
mapfile -t INSTR < <(awk '
  /^[[:space:]]*#/ { next }
  { line = $0; cont = sub(/\\[[:space:]]*$/, "", line); buf = buf line; if (!cont) { if (buf ~ /[^[:space:]]/) print buf; buf = "" } }
' Dockerfile)
heavy=-1
for i in "${!INSTR[@]}"; do
  if [[ "${INSTR[$i]}" =~ ^RUN ]] && grep -Eq 'cargo (install|fetch|build)|notebook-ci\.sh' <<<"${INSTR[$i]}"; then heavy=$i; fi
done
[ "$heavy" -ge 0 ] || fail "Dockerfile : aucune étape de compilation trouvée"
copy_sources() { # the sources of a COPY/ADD instruction
  sed -E 's/^(COPY|ADD)[[:space:]]+//; s/--[a-z]+=[^ ]+[[:space:]]+//g' <<<"$1" | awk '{ for (i = 1; i < NF; i++) print $i }'
}
SOURCES=()
for i in "${!INSTR[@]}"; do
  ins="${INSTR[$i]}"
  [[ "$ins" =~ ^(COPY|ADD)[[:space:]] ]] || continue
  grep -q -- '--from=' <<<"$ins" && continue
  while read -r src; do
    SOURCES+=("$src")
    [ -e "$src" ] || fail "Dockerfile : COPY d'un fichier absent : $src"
    # Defect 2: what students and teachers edit never comes before a compiling step.
    if [ "$i" -lt "$heavy" ]; then
      case "${src%/}" in
        .|tp4.ipynb|data|data/*|output|output/*|corrige|corrige/*|scripts|*.ipynb)
          fail "Dockerfile : « COPY $src » avant une étape de compilation : modifier $src reconstruirait tout (ordre des couches)" ;;
      esac
    fi
  done < <(copy_sources "$ins")
done

# Defect 4: no duplicated layer, no leftovers.
first_fetch=-1; first_build=-1
for i in "${!INSTR[@]}"; do
  ins="${INSTR[$i]}"
  [[ "$ins" =~ ^RUN ]] || continue
  [ "$first_fetch" -lt 0 ] && grep -q 'cargo fetch' <<<"$ins" && first_fetch=$i
  [ "$first_build" -lt 0 ] && grep -q 'cargo build' <<<"$ins" && first_build=$i
  # Every target of every `chmod -R` / `chown -R` of this RUN.
  while read -r target; do
    [ -n "$target" ] || continue
    t="${target//\"/}"
    # Created by this very RUN (mkdir, useradd --create-home): nothing to duplicate.
    if grep -Eq "mkdir (-p )?[^&]*(^| )$t(/| |$)" <<<"$ins" \
       || { [[ "$t" == /home/* ]] && grep -q 'useradd --create-home' <<<"$ins"; }; then
      continue
    fi
    case "$t" in
      '$CARGO_HOME'|'${CARGO_HOME}'|/home/etudiant/.cargo)
        [ "$i" = "$first_fetch" ] || fail "Dockerfile : « chmod/chown -R $t » hors de l'étape qui remplit CARGO_HOME (cargo fetch) : couche dupliquée" ;;
      target|target/|/app/tp4/target)
        [ "$i" = "$first_build" ] || fail "Dockerfile : « chmod/chown -R $t » hors de l'étape cargo build : couche dupliquée" ;;
      /|/home|/home/*|/app|/app/*|'$HOME'|/usr|/usr/*|/opt|/opt/*)
        fail "Dockerfile : « chmod/chown -R $t » réécrit tout ce que les couches précédentes y ont mis (couches dupliquées) : ouvrez les droits dans l'étape qui crée les fichiers" ;;
    esac
  done < <(sed -E 's/(&&|;|\|\|)/\n/g' <<<"$ins" \
             | awk '$1 ~ /^(chmod|chown)$/ && $2 == "-R" { for (i = 4; i <= NF; i++) print $i }')
  if grep -q 'apt-get install' <<<"$ins" && ! grep -q 'rm -rf /var/lib/apt/lists' <<<"$ins"; then
    fail "Dockerfile : apt-get install sans rm -rf /var/lib/apt/lists dans la même étape"
  fi
  if grep -q 'pip install' <<<"$ins" && ! grep -q -- '--no-cache-dir' <<<"$ins"; then
    fail "Dockerfile : pip install sans --no-cache-dir"
  fi
  if grep -q 'cargo install' <<<"$ins" && ! grep -Eq 'rm -rf [^&]*cargo/registry' <<<"$ins"; then
    fail "Dockerfile : cargo install sans supprimer le registre cargo dans la même étape"
  fi
  if grep -q 'notebook-ci.sh' <<<"$ins"; then
    grep -Eq 'rm -rf [^&]*/tmp/|find /tmp [^&]*-exec rm' <<<"$ins" \
      || fail "Dockerfile : l'étape qui exécute les notebooks doit vider /tmp (répertoire de compilation d'evcxr) dans la même étape"
    grep -Eq 'chmod -R[^&]*(/home|/app)' <<<"$ins" \
      && fail "Dockerfile : l'étape des notebooks ne doit ouvrir que ce qu'elle a créé (find -cnewer), pas tout /home ou /app"
  fi
  if grep -Eq '\bcp\b[^&]*\b(data|output)/\*' <<<"$ins"; then
    fail "Dockerfile : « cp data/* » échoue dès que data/ contient un dossier (data/bench/, data/grand/)"
  fi
done

grep -Eq '^USER [a-z]' Dockerfile || fail "Dockerfile : pas d'utilisateur non root (USER)"
grep -Eq '^USER root' Dockerfile && fail "Dockerfile : l'image finit en root"
grep -q 'CARGO_NET_OFFLINE=true' Dockerfile || fail "Dockerfile : CARGO_NET_OFFLINE=true absent"
grep -q 'scripts/notebook-ci.sh --only-corrected' Dockerfile || fail "Dockerfile : le préchauffage doit passer par scripts/notebook-ci.sh"
grep -q 'jupyterlab>=4' Dockerfile || fail "Dockerfile : JupyterLab 4 attendu"
grep -q '/app/notebooks/tp4.ipynb' Dockerfile || fail "Dockerfile : /app/notebooks/tp4.ipynb absent"
grep -Eq '^RUN rustup component add rust-src' Dockerfile || fail "Dockerfile : rust-src doit être installé par une étape visible (sinon evcxr le télécharge en cachette)"
grep -Eq 'Using cache|Dependencies first' Dockerfile && fail "Dockerfile : commentaire de cache trompeur"
# Defect 3 and 7: the start command.
grep -q 'scripts/docker-start.sh' Dockerfile || fail "Dockerfile : scripts/docker-start.sh (commande de démarrage) non copié"
if [ -f scripts/docker-start.sh ]; then
  grep -q -- '--allow-root' scripts/docker-start.sh || fail "scripts/docker-start.sh : rien pour l'uid 0 (--allow-root)"
  grep -q 'default_kernel_name=rust' scripts/docker-start.sh || fail "scripts/docker-start.sh : le noyau Rust doit être le noyau par défaut"
  [ -x scripts/docker-start.sh ] || fail "scripts/docker-start.sh n'est pas exécutable"
else
  fail "scripts/docker-start.sh absent (commande de démarrage de l'image)"
fi

# Defect 1 (and 2): the build context, with Docker's .dockerignore rules when available.
PY=""
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import docker.utils.build' >/dev/null 2>&1; then PY="$p"; break; fi
done
if [ -n "$PY" ]; then
  ctx_report="$("$PY" - "${SOURCES[@]}" <<'EOF'
import os, sys, tempfile, subprocess
from docker.utils.build import exclude_paths
root = os.getcwd()
patterns = [l.strip() for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
sources = sys.argv[1:]
problems = []
# What the lab edits or creates, including folders that appear in data/ while it runs.
forbidden = ["tp4.ipynb", "corrige/tp4.ipynb", "output/rapport.md", "target/release/tp4",
             ".git/HEAD", "data/transactions.csv", "data/bench/resultats.csv",
             "data/grand/transactions.csv", "data/grand/corpus.txt", "notebook/x.executed.ipynb"]
tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], capture_output=True, text=True).stdout.split()
with tempfile.TemporaryDirectory() as tmp:
    for rel in set(tracked + forbidden):
        path = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "a").close()
    kept = exclude_paths(tmp, patterns)
for rel in forbidden:
    if rel in kept:
        problems.append(f".dockerignore : {rel} serait dans le contexte de construction")
for src in sources:
    if src.rstrip("/") not in kept:
        problems.append(f".dockerignore : {src}, copié par le Dockerfile, est exclu du contexte")
size = 0
for rel in exclude_paths(root, patterns):
    p = os.path.join(root, rel)
    if os.path.isfile(p) and not os.path.islink(p):
        size += os.path.getsize(p)
if size > 5_000_000:
    problems.append(f"contexte de construction de {size / 1e6:.0f} Mo (plus de 5 Mo)")
for p in problems:
    print("PROBLEM " + p)
print(f"SIZE {size / 1e6:.1f}".replace(".", ","))
EOF
)" || fail "évaluation du contexte de construction impossible"
  while read -r kind rest; do
    case "$kind" in PROBLEM) fail "$rest" ;; SIZE) ctx_size="$rest" ;; esac
  done <<<"$ctx_report"
else
  # Without Docker's rules: the file must exclude everything and re-include only sources.
  head -n 20 .dockerignore | grep -qx '\*' || fail ".dockerignore : doit exclure tout (*) puis réinclure ce que le Dockerfile copie"
  grep -Eq '^!(data|output|corrige|tp4\.ipynb)' .dockerignore && fail ".dockerignore : réinclut ce que le TP modifie"
fi

if [ "${#problems[@]}" -gt 0 ]; then
  echo "docker-check.sh : ${#problems[@]} problème(s) :"
  printf ' - %s\n' "${problems[@]}"
  exit 1
fi
echo "docker-check.sh : docker-compose.yml valide (${COMPOSE[*]}), Dockerfile cohérent, contexte de construction ${ctx_size:-?} Mo."
