#!/usr/bin/env bash
# The Docker image's command (installed as /usr/local/bin/tp4-jupyter): starts JupyterLab
# in /app/notebooks for whatever uid the container runs as.
#   - uid 0 (`docker run -u 0`, `TP4_UID=0`, a root host user): Jupyter refuses root
#     without --allow-root; it is added, and the log says so and why.
#   - any other uid, with or without an entry in /etc/passwd: the image's home, cargo
#     registry and evcxr cache are writable by every uid.
# The server listens on every interface of the container (the port is published on the
# host's 127.0.0.1 only, see docker-compose.yml); the addresses it prints, at startup and
# in `jupyter server list`, are the host's (127.0.0.1 / localhost), not the container id.
# The Rust kernel is the default kernel. The token is kept: it is in the log.
# Environment: TP4_HOST_PORT, the host's port to print (default 8888, set by
# docker-compose.yml from TP4_PORT); TP4_JUPYTER_PORT, the port listened on in the
# container (default 8888); TP4_JUPYTER_IP, the address listened on (default: all; a
# container sharing the host's network, `--network host`, should use 127.0.0.1).
# Extra arguments are passed to `jupyter lab`.
set -euo pipefail

uid="$(id -u)"
gid="$(id -g)"
port="${TP4_JUPYTER_PORT:-8888}"
host_port="${TP4_HOST_PORT:-$port}"
ip="${TP4_JUPYTER_IP:-*}"
args=()
if [ "$uid" = 0 ]; then
  echo "tp4 : le conteneur tourne en root (uid 0). JupyterLab est lancé avec --allow-root ;" \
       "les fichiers écrits dans output/ et dans le dépôt appartiendront à root sur la machine hôte." >&2
  echo "tp4 : pour travailler sous votre utilisateur : TP4_UID=\$(id -u) TP4_GID=\$(id -g)" \
       "docker compose up, ou docker run -u \"\$(id -u):\$(id -g)\"." >&2
  args+=(--allow-root)
else
  echo "tp4 : JupyterLab tourne sous l'uid $uid (groupe $gid) ; les fichiers écrits dans" \
       "output/ lui appartiennent." >&2
fi
if [ ! -w /app/notebooks ]; then
  echo "tp4 : attention, /app/notebooks n'est pas accessible en écriture pour l'uid $uid :" \
       "le notebook ne pourra pas être enregistré (voir docs/docker.md, « Permission denied »)." >&2
fi

# --ip='*' listens on all interfaces but makes Jupyter print "localhost" instead of the
# container's host name (which the host cannot resolve) in `jupyter server list`.
exec jupyter lab \
  --ip="$ip" \
  --port="$port" \
  --no-browser \
  --ServerApp.root_dir=/app/notebooks \
  --ServerApp.custom_display_url="http://127.0.0.1:$host_port" \
  --MappingKernelManager.default_kernel_name=rust \
  "${args[@]}" \
  "$@"
