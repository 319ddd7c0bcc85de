#!/usr/bin/env bash
# Checks the Dockerfile and docker-compose.yml without a Docker engine:
#   - docker-compose.yml is valid for Compose (`docker compose config`, or the
#     docker-compose package from Debian when no Docker CLI is there: it validates
#     the file against the Compose schema without contacting an engine);
#   - the compose service publishes 8888 on 127.0.0.1 only and mounts the seed's
#     three volumes at the paths the Dockerfile lays out;
#   - the Dockerfile copies files that exist, runs as a normal user, is offline once
#     built, and prebuilds by running the same script as CI (scripts/notebook-ci.sh).
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
has ":/app/notebooks/tp4.ipynb"
has ":/app/data"
has ":/app/output"
grep -Eq '^\s*#\s*deploy:' docker-compose.yml || fail "docker-compose.yml : limites deploy.resources commentées absentes"
grep -Eq '^\s*#\s*memory:' docker-compose.yml || fail "docker-compose.yml : limite mémoire commentée absente"
grep -Eq '^\s*#\s*cpus:' docker-compose.yml || fail "docker-compose.yml : limite CPU commentée absente"
if grep -Eq -- '--(ServerApp|NotebookApp)\.token=' Dockerfile docker-compose.yml; then
  fail "le jeton de JupyterLab ne doit pas être désactivé"
fi
for src in $(sed -n 's/^COPY \(--chown=[^ ]* \)\?//p' Dockerfile | awk '{ for (i = 1; i < NF; i++) print $i }'); do
  [ -e "$src" ] || fail "Dockerfile : COPY d'un fichier absent : $src"
done
grep -Eq '^USER [a-z]' Dockerfile || fail "Dockerfile : pas d'utilisateur non root (USER)"
grep -Eq '^USER root' Dockerfile && fail "Dockerfile : l'image finit en root"
grep -q 'CARGO_NET_OFFLINE=true' Dockerfile || fail "Dockerfile : CARGO_NET_OFFLINE=true absent"
grep -q 'scripts/notebook-ci.sh --only-corrected' Dockerfile || fail "Dockerfile : le préchauffage doit passer par scripts/notebook-ci.sh"
grep -q 'jupyterlab>=4' Dockerfile || fail "Dockerfile : JupyterLab 4 attendu"
grep -q '/app/notebooks/tp4.ipynb' Dockerfile || fail "Dockerfile : /app/notebooks/tp4.ipynb absent"

if [ "${#problems[@]}" -gt 0 ]; then
  echo "docker-check.sh : ${#problems[@]} problème(s) :"
  printf ' - %s\n' "${problems[@]}"
  exit 1
fi
echo "docker-check.sh : docker-compose.yml valide (${COMPOSE[*]}), Dockerfile cohérent."
