#!/usr/bin/env bash
# End-to-end test of the Docker image, with a real Docker engine:
#   1. copies the repository (tracked and untracked files, and all of data/, whatever
#      folders it holds) into a temporary folder, and adds data/bench/ and data/grand/;
#   2. builds the image (`docker build`), times it, reports its size;
#   3. starts it as the README says with `docker run` (as the host user: -u uid:gid),
#      then checks: the token is in the log; /api/status refuses requests without it and
#      answers with it; the port is published on 127.0.0.1 only; the container user is
#      the one asked (the image's own user is not root); `rust` is the default kernel;
#      `jupyter server list` prints an address the host can open; a notebook replaced on
#      the host is seen in the container (folder mount); a notebook saved through
#      JupyterLab lands on the host; the student notebook executes headless in the
#      container and every check prints "pas encore faite"; a file written to output/
#      belongs to the host user;
#   4. starts it with Compose (`docker compose`, or `docker-compose` v1) as the README
#      says (TP4_UID/TP4_GID), checks token, status, user, kernel and output/ again, then
#      edits tp4.ipynb, corrige/tp4.ipynb and data/ and checks that `up --build` reuses
#      every layer (same image) in seconds;
#   5. stops and removes every container it started (the image is kept: it is the
#      product, and the next build reuses it), and its temporary folder.
# Without a reachable Docker engine it prints that it was skipped and exits 0, so that
# CI (.ci/run) can always call it.
#
# Usage: scripts/docker-e2e.sh [--network host] [--port N] [--image NAME] [--uid UID[:GID]]
#   --network host  build and run with the host's network (engines without a bridge
#                   network); JupyterLab then listens on 127.0.0.1 only
#   --port N        the host port to publish (default 8888)
#   --image NAME    the image tag (default tp4-jupyter, as in docker-compose.yml)
#   --uid UID[:GID] the host user to act as (default: the caller's, `id -u`:`id -g`;
#                   GID defaults to UID): the copy of the repository is given to that
#                   user (root only may ask for another uid than its own), the container
#                   runs with -u UID:GID and TP4_UID/TP4_GID, and what it writes must
#                   belong to UID:GID on the host. `--uid 0` tests a root host user.
# Environment: DOCKER_HOST (the engine), TP4_E2E_NETWORK, TP4_E2E_PORT, TP4_E2E_IMAGE,
# TP4_E2E_UID
# (same as the options), TP4_E2E_COMPOSE (the Compose command, e.g. "docker-compose"),
# TP4_E2E_NOTEBOOK=0 (skip the notebook execution, to debug the rest quickly).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NETWORK="${TP4_E2E_NETWORK:-}"
PORT="${TP4_E2E_PORT:-8888}"
IMAGE="${TP4_E2E_IMAGE:-tp4-jupyter}"
RUN_NOTEBOOK="${TP4_E2E_NOTEBOOK:-1}"
AS_USER="${TP4_E2E_UID:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --network) NETWORK="${2:?--network attend une valeur (host)}"; shift 2 ;;
    --network=*) NETWORK="${1#*=}"; shift ;;
    --port) PORT="${2:?--port attend un numéro}"; shift 2 ;;
    --port=*) PORT="${1#*=}"; shift ;;
    --image) IMAGE="${2:?--image attend un nom}"; shift 2 ;;
    --image=*) IMAGE="${1#*=}"; shift ;;
    --uid) AS_USER="${2:?--uid attend un uid (ou uid:gid)}"; shift 2 ;;
    --uid=*) AS_USER="${1#*=}"; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "docker-e2e.sh : option inconnue « $1 » (voir --help)" >&2; exit 2 ;;
  esac
done
case "$NETWORK" in ""|bridge|host) ;; *) echo "docker-e2e.sh : --network host ou bridge" >&2; exit 2 ;; esac
if [ -n "$AS_USER" ] && ! [[ "$AS_USER" =~ ^[0-9]+(:[0-9]+)?$ ]]; then
  echo "docker-e2e.sh : --uid attend un uid numérique ou uid:gid (reçu « $AS_USER »)" >&2; exit 2
fi

T0=$SECONDS
step() { printf '\n== %s (%(%H:%M:%S)T)\n' "$1" -1; }
problems=()
ok() { echo "  ok : $1"; }
bad() { echo "  ÉCHEC : $1"; problems+=("$1"); }
die() { echo "docker-e2e.sh : ÉCHEC : $1" >&2; exit 1; }

# --- 0. an engine, or skip --------------------------------------------------------
if ! command -v docker >/dev/null 2>&1; then
  echo "docker-e2e.sh : ignoré : pas de moteur Docker (commande docker absente). Rien n'a été construit ni lancé."
  exit 0
fi
if ! timeout 30 docker info >/dev/null 2>&1; then
  echo "docker-e2e.sh : ignoré : pas de moteur Docker joignable (DOCKER_HOST=${DOCKER_HOST:-par défaut}). Rien n'a été construit ni lancé."
  exit 0
fi
if [ -n "${TP4_E2E_COMPOSE:-}" ]; then
  read -r -a COMPOSE <<<"$TP4_E2E_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  die "moteur Docker présent mais ni « docker compose » ni « docker-compose » : installez Compose"
fi
command -v curl >/dev/null 2>&1 || die "curl est nécessaire"

uid="$(id -u)"
gid="$(id -g)"
if [ -n "$AS_USER" ]; then
  new_uid="${AS_USER%%:*}"
  new_gid="${AS_USER#*:}"; [ "$new_gid" = "$AS_USER" ] && new_gid="$new_uid"
  if [ "$new_uid:$new_gid" != "$uid:$gid" ] && [ "$uid" != 0 ]; then
    die "--uid $new_uid:$new_gid : seul root peut agir pour un autre utilisateur (vous êtes $uid:$gid)"
  fi
  uid="$new_uid"; gid="$new_gid"
fi
echo "docker-e2e.sh : moteur $(docker version --format '{{.Server.Version}}' 2>/dev/null)," \
     "$("${COMPOSE[@]}" version --short 2>/dev/null || "${COMPOSE[@]}" version | head -1)," \
     "utilisateur hôte $uid:$gid, port $PORT, réseau ${NETWORK:-bridge}, image $IMAGE"

net_build=()
net_run=(-p "127.0.0.1:$PORT:8888")
if [ "$NETWORK" = host ]; then
  net_build=(--network host)
  # The container shares the host's network: listen on the host's loopback only.
  net_run=(--network host -e TP4_JUPYTER_IP=127.0.0.1 -e "TP4_JUPYTER_PORT=$PORT")
fi

# --- 1. a copy of the repository ----------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tp4-e2e.XXXXXX")"
RUN_NAME="tp4-e2e-run-$$"
PROJECT="tp4e2e$$"
compose() { (cd "$WORK" && "${COMPOSE[@]}" -p "$PROJECT" "${compose_files[@]}" "$@"); }
compose_files=(-f docker-compose.yml)
cleanup() {
  docker rm -f "$RUN_NAME" >/dev/null 2>&1 || true
  if [ -f "$WORK/docker-compose.yml" ]; then compose down --remove-orphans >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "copie du dépôt dans $WORK"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -C "$WORK" -xf -
else
  tar -C "$ROOT" --exclude=./target --exclude=./.git -cf - . | tar -C "$WORK" -xf -
fi
cp -a "$ROOT/data/." "$WORK/data/"
mkdir -p "$WORK/output" "$WORK/data/bench" "$WORK/data/grand"
printf 'charge,strategie,workers,secondes\nW1,seq,1,0.5\n' > "$WORK/data/bench/e2e.csv"
printf 'bidon\n' > "$WORK/data/grand/e2e.txt"
echo "  data/ contient : $(cd "$WORK/data" && ls -p | tr '\n' ' ')"
# The copy belongs to the host user under test, as a clone of theirs would.
if [ "$uid:$gid" != "$(id -u):$(id -g)" ]; then
  chown -R "$uid:$gid" "$WORK" || die "chown -R $uid:$gid $WORK impossible"
  echo "  copie donnée à l'utilisateur hôte $uid:$gid"
fi
if [ "$NETWORK" = host ]; then
  cat > "$WORK/.e2e-host-network.yml" <<EOF
services:
  jupyter:
    network_mode: host
    build:
      context: .
      network: host
    environment:
      TP4_JUPYTER_IP: 127.0.0.1
      TP4_JUPYTER_PORT: "$PORT"
EOF
  # Compose v1 refuses published ports with the host's network: the same file without them.
  awk '/^    ports:/ { skip = 1; next } skip && /^      - / { next } { skip = 0; print }' \
    "$WORK/docker-compose.yml" > "$WORK/.e2e-compose.yml"
  compose_files=(-f .e2e-compose.yml -f .e2e-host-network.yml)
fi

# --- helpers -------------------------------------------------------------------------
URL="http://127.0.0.1:$PORT"
token_from() { # command printing the logs
  local i tok
  for i in $(seq 1 180); do
    tok="$("$@" 2>&1 | grep -oE 'token=[0-9a-f]{16,}' | head -1 | cut -d= -f2)"
    if [ -n "$tok" ]; then echo "$tok"; return 0; fi
    sleep 1
  done
  return 1
}
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
check_server() { # token, what
  local tok="$1" code
  code="$(http_code "$URL/api/status")"
  case "$code" in 401|403) ok "$2 : /api/status sans jeton refusé ($code)" ;;
    *) bad "$2 : /api/status sans jeton répond $code (401 ou 403 attendu)" ;; esac
  code="$(http_code -H "Authorization: token $tok" "$URL/api/status")"
  [ "$code" = 200 ] && ok "$2 : /api/status avec le jeton : 200" \
    || bad "$2 : /api/status avec le jeton répond $code"
  local specs
  specs="$(curl -s --max-time 10 -H "Authorization: token $tok" "$URL/api/kernelspecs")"
  if grep -Eq '"default": *"rust"' <<<"$specs" && grep -q '"rust": *{' <<<"$specs"; then
    ok "$2 : noyau par défaut « rust »"
  else
    bad "$2 : le noyau par défaut n'est pas rust : $(grep -oE '"default": *"[^"]*"' <<<"$specs")"
  fi
}
check_listen() { # what: every listener on $PORT of this machine is on the loopback
  local hex addrs
  hex="$(printf '%04X' "$PORT")"
  [ -r /proc/net/tcp ] || { echo "  (pas de /proc/net/tcp : écoute non vérifiée)"; return; }
  addrs="$(awk -v p="$hex" '$4 == "0A" { split($2, a, ":"); if (a[2] == p) print a[1] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u)"
  if [ -z "$addrs" ]; then
    echo "  (aucune socket en écoute sur le port $PORT dans cet espace réseau : vérifié par docker port)"
  elif grep -vqxE '0100007F|00000000000000000000000001000000' <<<"$addrs"; then
    bad "$1 : le port $PORT écoute ailleurs que sur 127.0.0.1 : $(tr '\n' ' ' <<<"$addrs")"
  else
    ok "$1 : le port $PORT n'écoute que sur 127.0.0.1"
  fi
}
check_owner() { # file, what
  local owner
  owner="$(stat -c %u:%g "$1" 2>/dev/null)"
  [ "$owner" = "$uid:$gid" ] && ok "$2 : $(basename "$1") appartient à $owner sur l'hôte" \
    || bad "$2 : $(basename "$1") appartient à « $owner » sur l'hôte ($uid:$gid attendu)"
}
check_user() { # container-exec command..., what is last
  local what="${*: -1}" got
  got="$("${@:1:$#-1}" id -u 2>/dev/null | tr -d '\r')"
  [ "$got" = "$uid" ] && ok "$what : le conteneur tourne sous l'uid $got (celui de l'hôte)" \
    || bad "$what : le conteneur tourne sous l'uid « $got » ($uid attendu)"
}

# --- 2. build ------------------------------------------------------------------------
step "construction de l'image ($IMAGE)"
t=$SECONDS
docker build "${net_build[@]}" -t "$IMAGE" "$WORK" > "$WORK/.build.log" 2>&1 \
  || { tail -40 "$WORK/.build.log"; die "docker build a échoué (voir ci-dessus)"; }
BUILD_S=$((SECONDS - t))
context="$(grep -oE 'build context to Docker daemon +[0-9.]+ ?[kMG]?B' "$WORK/.build.log" | grep -oE '[0-9.]+ ?[kMG]?B$')"
cached="$(grep -c 'Using cache' "$WORK/.build.log")"
size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
SIZE_MB=$((size / 1000000))
echo "  construction : ${BUILD_S} s (étapes reprises du cache : $cached), contexte : ${context:-?}, image : ${SIZE_MB} Mo"
IMAGE_ID="$(docker image inspect -f '{{.Id}}' "$IMAGE")"
echo "  couches de plus de 10 Mo :"
docker history --no-trunc --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" \
  | awk -F'\t' '$1 ~ /GB|[0-9][0-9]+(\.[0-9]+)?MB/ { sub(/^\/bin\/sh -c (#\(nop\) )?/, "", $2); printf "    %9s  %.90s\n", $1, $2 }'
image_user="$(docker image inspect -f '{{.Config.User}}' "$IMAGE")"
case "$image_user" in ""|root|0|0:*) bad "l'image tourne en root par défaut (USER « $image_user »)" ;;
  *) ok "utilisateur de l'image : $image_user (pas root)" ;; esac
# Nothing the lab edits may be in the build context (defects 1 and 2).
leaked="$(docker run --rm --entrypoint sh "$IMAGE" -c 'ls -d /app/tp4/corrige/*.executed.ipynb /app/tp4/data/bench /app/tp4/output/* 2>/dev/null' || true)"
[ -z "$leaked" ] && ok "ni data/bench, ni output/, ni notebook exécuté dans l'image" || bad "dans l'image : $leaked"
# The image regenerates the small data files and the notebooks: same bytes as the repository's
# (unless they were changed here, which the image does not need to know).
same=0
for f in data/transactions.csv data/corpus.txt tp4.ipynb; do
  inside="$(docker run --rm --entrypoint sh "$IMAGE" -c "sha256sum /app/notebooks/$f" | cut -d' ' -f1)"
  [ "$inside" = "$(sha256sum "$WORK/$f" | cut -d' ' -f1)" ] && same=$((same + 1)) \
    || echo "  (note : $f de l'image diffère de celui du dépôt : modifié dans le dépôt ?)"
done
[ "$same" = 3 ] && ok "données et notebook régénérés dans l'image : identiques à ceux du dépôt"
tmp_left="$(docker run --rm --entrypoint sh "$IMAGE" -c 'ls -A /tmp | head -5')"
[ -z "$tmp_left" ] && ok "/tmp vide dans l'image" || bad "fichiers temporaires laissés dans /tmp : $tmp_left"

# --- 3. docker run -------------------------------------------------------------------
step "docker run (comme dans le README), -u $uid:$gid"
docker run -d --name "$RUN_NAME" "${net_run[@]}" -u "$uid:$gid" \
  -v "$WORK:/app/notebooks" -v "$WORK/data:/app/data" -v "$WORK/output:/app/output" \
  "$IMAGE" >/dev/null || die "docker run a échoué"
tok="$(token_from docker logs "$RUN_NAME")" || { docker logs "$RUN_NAME" 2>&1 | tail -30; die "pas de jeton dans le journal de docker run"; }
ok "docker run : jeton lu dans le journal"
if [ "$uid" = 0 ]; then
  run_log="$(docker logs "$RUN_NAME" 2>&1)"
  grep -q -- '--allow-root' <<<"$run_log" && ok "docker run en root : le journal annonce --allow-root" \
    || bad "docker run en root : le journal ne dit pas --allow-root"
fi
check_server "$tok" "docker run"
if [ "$NETWORK" != host ]; then
  bindings="$(docker port "$RUN_NAME" 8888/tcp)"
  if [ -n "$bindings" ] && ! grep -vq '^127\.0\.0\.1:' <<<"$bindings"; then
    ok "docker run : publié sur $(tr '\n' ' ' <<<"$bindings")seulement"
  else
    bad "docker run : port publié sur « $(tr '\n' ' ' <<<"$bindings") » (127.0.0.1 seulement attendu)"
  fi
fi
check_listen "docker run"
check_user docker exec "$RUN_NAME" "docker run"
list="$(docker exec "$RUN_NAME" jupyter server list 2>&1 | grep -oE 'https?://[^ ]+' | head -1)"
if [[ "$list" =~ ^http://(127\.0\.0\.1|localhost):[0-9]+/\?token= ]]; then
  base="${list%%\?*}"
  code="$(http_code -H "Authorization: token $tok" "$(sed -E "s#:[0-9]+/#:$PORT/#" <<<"$base")api/status")"
  [ "$code" = 200 ] && ok "jupyter server list : ${base} (ouvrable depuis l'hôte)" \
    || bad "jupyter server list : $base ne répond pas depuis l'hôte ($code)"
else
  bad "jupyter server list affiche « $list » : ni 127.0.0.1 ni localhost"
fi

# Folder mount: a notebook replaced on the host (new file, as git checkout does) is
# what the container reads; a notebook saved in JupyterLab is written on the host.
# `cp -p`: the new file belongs to the host user under test (as root, a plain `cp`
# made it root's, and the container, running as that user, could no longer save it).
cp -p "$WORK/tp4.ipynb" "$WORK/.tp4.ipynb.new" && printf '\n' >> "$WORK/.tp4.ipynb.new"
mv -f "$WORK/.tp4.ipynb.new" "$WORK/tp4.ipynb"
[ "$(docker exec "$RUN_NAME" sha256sum /app/notebooks/tp4.ipynb | cut -d' ' -f1)" = "$(sha256sum "$WORK/tp4.ipynb" | cut -d' ' -f1)" ] \
  && ok "notebook remplacé sur l'hôte : le conteneur lit le nouveau fichier" \
  || bad "notebook remplacé sur l'hôte : le conteneur lit encore l'ancien (montage d'un fichier seul ?)"
before="$(sha256sum "$WORK/tp4.ipynb" | cut -d' ' -f1)"
inner_port=8888; [ "$NETWORK" = host ] && inner_port="$PORT"
if docker exec -i -e TOK="$tok" -e P="$inner_port" "$RUN_NAME" python3 - <<'EOF'
import json, os, urllib.request
base = f"http://127.0.0.1:{os.environ['P']}/api/contents/tp4.ipynb"
hdr = {"Authorization": "token " + os.environ["TOK"], "Content-Type": "application/json"}
model = json.load(urllib.request.urlopen(urllib.request.Request(base + "?content=1", headers=hdr)))
model["content"]["metadata"]["tp4_e2e"] = "enregistré par JupyterLab"
body = json.dumps({"type": "notebook", "format": "json", "content": model["content"]}).encode()
urllib.request.urlopen(urllib.request.Request(base, data=body, headers=hdr, method="PUT"))
EOF
then
  after="$(sha256sum "$WORK/tp4.ipynb" | cut -d' ' -f1)"
  if [ "$before" != "$after" ] && grep -q 'enregistré par JupyterLab' "$WORK/tp4.ipynb"; then
    ok "notebook enregistré par JupyterLab : écrit sur l'hôte"
    check_owner "$WORK/tp4.ipynb" "docker run"
  else
    bad "notebook enregistré par JupyterLab : le fichier de l'hôte n'a pas changé"
  fi
else
  bad "enregistrement du notebook par l'API de JupyterLab impossible"
fi

if [ "$RUN_NOTEBOOK" = 1 ]; then
  step "notebook étudiant exécuté sans interface dans le conteneur"
  t=$SECONDS
  if docker exec -w /app/notebooks -e RUST_BACKTRACE=0 "$RUN_NAME" \
      timeout 1800 python3 /app/tp4/scripts/notebook_check.py run tp4.ipynb --expect not-done \
      --out /tmp/e2e-tp4.ipynb --timeout 900; then
    NB_S=$((SECONDS - t))
    ok "notebook étudiant : chaque vérification affiche « pas encore faite » (${NB_S} s)"
  else
    NB_S=$((SECONDS - t))
    bad "notebook étudiant : exécution ou vérifications en échec (${NB_S} s)"
  fi
  FIRST_CELL="$(docker exec -i "$RUN_NAME" python3 - <<'EOF' 2>/dev/null
import json
from datetime import datetime
nb = json.load(open("/tmp/e2e-tp4.ipynb"))
def secs(c):
    t = c.get("metadata", {}).get("execution", {})
    a, b = t.get("iopub.execute_input"), t.get("shell.execute_reply")
    if not (a and b): return None
    f = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (f(b) - f(a)).total_seconds()
cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
first = next(c for c in cells if ":dep tp4" in "".join(c["source"]))
done = sum("pas encore faite" in json.dumps(c.get("outputs", [])) for c in cells)
print(f"{secs(first):.0f} {done}")
EOF
)"
  read -r FIRST_S DONE_N <<<"${FIRST_CELL:-? ?}"
  echo "  première cellule (:dep tp4) : ${FIRST_S} s ; cellules « pas encore faite » : ${DONE_N}"
fi

docker exec "$RUN_NAME" sh -c 'echo e2e > /app/output/e2e-docker-run.txt' \
  || bad "docker run : écriture dans /app/output impossible"
check_owner "$WORK/output/e2e-docker-run.txt" "docker run"
others="$(find "$WORK/output" "$WORK/tp4.ipynb" ! -uid "$uid" 2>/dev/null | head -3)"
[ -z "$others" ] && ok "docker run : tout ce qui a été écrit dans output/ appartient à $uid" \
  || bad "docker run : fichiers d'un autre propriétaire : $others"
docker rm -f "$RUN_NAME" >/dev/null

# --- 4. compose ----------------------------------------------------------------------
step "${COMPOSE[*]} up (comme dans le README), TP4_UID=$uid TP4_GID=$gid"
export TP4_UID="$uid" TP4_GID="$gid" TP4_PORT="$PORT"
# docker-compose v1 builds through docker-py, whose build context keeps the files' owner,
# and the engine's layer cache keys on it: a copy owned by a user other than root would
# not reuse the layers `docker build` made (the docker command sends every file as
# root's). COMPOSE_DOCKER_CLI_BUILD=1 makes v1 build with the docker command, as the
# Compose v2 plugin always does (docs/docker.md says so too).
if [ "${COMPOSE[0]}" = docker-compose ] && [ -z "${COMPOSE_DOCKER_CLI_BUILD:-}" ]; then
  export COMPOSE_DOCKER_CLI_BUILD=1
  echo "  (docker-compose v1 : COMPOSE_DOCKER_CLI_BUILD=1, construction par la commande docker)"
fi
compose up -d --build > "$WORK/.compose-up.log" 2>&1 || { tail -30 "$WORK/.compose-up.log"; die "compose up a échoué"; }
tok="$(token_from compose logs jupyter)" || { compose logs jupyter | tail -30; die "pas de jeton dans compose logs"; }
ok "compose : jeton lu dans « compose logs jupyter »"
COMPOSE_ID="$(docker image inspect -f '{{.Id}}' "$IMAGE")"
[ "$COMPOSE_ID" = "$IMAGE_ID" ] && ok "compose up --build : même image que docker build (cache réutilisé)" \
  || echo "  (compose a construit une image différente de docker build : $COMPOSE_ID)"
check_server "$tok" "compose"
if [ "$NETWORK" != host ]; then
  bindings="$(compose port jupyter 8888 2>/dev/null)"
  [[ "$bindings" == 127.0.0.1:* ]] && ok "compose : publié sur $bindings seulement" \
    || bad "compose : port publié sur « $bindings » (127.0.0.1 attendu)"
fi
check_listen "compose"
check_user compose exec -T jupyter "compose"
compose exec -T jupyter sh -c 'echo e2e > /app/output/e2e-compose.txt' || bad "compose : écriture dans /app/output impossible"
check_owner "$WORK/output/e2e-compose.txt" "compose"

step "reconstruction après modification de tp4.ipynb, corrige/tp4.ipynb et data/"
printf '\n' >> "$WORK/tp4.ipynb"
printf '\n' >> "$WORK/corrige/tp4.ipynb"
printf 'W2,rayon,2,0.25\n' >> "$WORK/data/bench/e2e.csv"
printf '\n' >> "$WORK/data/README.md"
mkdir -p "$WORK/data/bench/nouveau" && printf 'x\n' > "$WORK/data/bench/nouveau/x.txt"
t=$SECONDS
compose up -d --build > "$WORK/.compose-rebuild.log" 2>&1 || { tail -30 "$WORK/.compose-rebuild.log"; die "compose up --build a échoué"; }
REBUILD_S=$((SECONDS - t))
new_id="$(docker image inspect -f '{{.Id}}' "$IMAGE")"
if [ "$new_id" = "$COMPOSE_ID" ]; then
  ok "compose up --build : toutes les couches réutilisées (même image), ${REBUILD_S} s"
else
  bad "compose up --build : l'image a changé après une modification du notebook ou de data/ (${REBUILD_S} s)"
fi
[ "$REBUILD_S" -le 120 ] || bad "reconstruction en ${REBUILD_S} s (quelques secondes attendues)"
tok="$(token_from compose logs jupyter)" && check_server "$tok" "compose après reconstruction" \
  || bad "compose après reconstruction : pas de jeton"
compose down --remove-orphans >/dev/null 2>&1 || bad "compose down a échoué"
left="$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"; docker ps -aq --filter "name=$RUN_NAME")"
[ -z "$left" ] && ok "tous les conteneurs lancés sont arrêtés et supprimés" || bad "conteneurs restants : $left"

# --- summary -------------------------------------------------------------------------
echo
echo "== Résumé (docker-e2e.sh, $((SECONDS - T0)) s au total)"
echo "  construction de l'image : ${BUILD_S} s (étapes reprises du cache : $cached)"
echo "  taille de l'image : ${SIZE_MB} Mo"
[ "$RUN_NOTEBOOK" = 1 ] && echo "  notebook étudiant dans le conteneur : ${NB_S} s, dont première cellule (:dep tp4) ${FIRST_S} s"
echo "  reconstruction après modification du notebook et de data/ : ${REBUILD_S} s"
echo "  utilisateur hôte : $uid:$gid ; réseau : ${NETWORK:-bridge} ; compose : ${COMPOSE[*]}"
if [ "${#problems[@]}" -gt 0 ]; then
  echo "docker-e2e.sh : ${#problems[@]} échec(s) :"
  printf ' - %s\n' "${problems[@]}"
  exit 1
fi
echo "docker-e2e.sh : tout est passé."
