# TP4 : fondamentaux du calcul parallèle et distribué — JupyterLab 4 with the Rust
# kernel evcxr, the Rust toolchain and the tp4 crate prebuilt.
#
# Layout (as in the seed):
#   /app/notebooks/tp4.ipynb   the student notebook (volume)
#   /app/data                  transactions.csv, corpus.txt (volume)
#   /app/output                what the lab writes (volume)
#   /app/tp4                   the tp4 workspace (crates/, corrige/, scripts/...)
# /app/notebooks/{crates,data,output} are links, so that the notebook's relative paths
# (`:dep tp4 = { path = "crates/tp4" }`, "data", "output") work as at the repo root.
#
# The build runs scripts/notebook-ci.sh --only-corrected: the same steps as CI
# (kernel registration, notebooks up to date, corrected notebook executed with every
# check passing). Executing the corrected notebook fills evcxr's compilation cache,
# so a student's first cell does not recompile every dependency.
#
#   docker build -t tp4 .          (about 20 to 25 min the first time on 2 cores)
#   docker compose up              (see docker-compose.yml and docs/docker.md)

FROM rust:1.95-slim-bookworm

ARG EVCXR_VERSION=0.22.0
ENV DEBIAN_FRONTEND=noninteractive \
    RUSTUP_HOME=/usr/local/rustup \
    PATH=/opt/venv/bin:/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

# The kernel, compiled once for everybody (about 9 minutes on 2 cores).
RUN cargo install --locked evcxr_jupyter --version "${EVCXR_VERSION}" \
 && rm -rf /usr/local/cargo/registry /usr/local/cargo/git

# JupyterLab 4 and the headless executor used by the build step below.
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
      "jupyterlab>=4,<5" nbclient nbformat

# A normal user; its home (cargo registry, evcxr cache, kernel spec) is made
# writable by any uid so that the container can also run as the host user
# (`user:` in docker-compose.yml) without losing the prebuilt cache.
RUN useradd --create-home --uid 1000 --shell /bin/bash etudiant \
 && mkdir -p /app/notebooks /app/data /app/output /app/tp4 \
 && chown -R etudiant:etudiant /app
ENV HOME=/home/etudiant \
    CARGO_HOME=/home/etudiant/.cargo \
    XDG_CACHE_HOME=/home/etudiant/.cache \
    XDG_DATA_HOME=/home/etudiant/.local/share \
    TP4_NB_VENV=/opt/venv \
    TP4_EXE=/app/tp4/target/release/tp4 \
    TP4_DATA=/app/data \
    TP4_OUTPUT=/app/output \
    PATH=/app/tp4/target/release:/home/etudiant/.cargo/bin:/opt/venv/bin:/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER etudiant
WORKDIR /app/tp4

# Dependencies first (cached layer while only the sources change).
COPY --chown=etudiant:etudiant Cargo.toml Cargo.lock ./
COPY --chown=etudiant:etudiant crates crates
RUN cargo fetch --locked
COPY --chown=etudiant:etudiant data data
COPY --chown=etudiant:etudiant notebook notebook
COPY --chown=etudiant:etudiant corrige corrige
COPY --chown=etudiant:etudiant scripts scripts
COPY --chown=etudiant:etudiant tp4.ipynb tp4.ipynb

# The tp4 command, then the CI steps: kernel, notebooks up to date, corrected
# notebook executed (this compiles its dependencies into evcxr's cache).
RUN cargo build --release --locked -p tp4-cli \
 && TP4_BIN=/app/tp4/target/release/tp4 TP4_NB_OUT=/tmp/notebook-ci \
      bash scripts/notebook-ci.sh --only-corrected \
 && rm -rf /tmp/notebook-ci output/* \
 && cp tp4.ipynb /app/notebooks/tp4.ipynb \
 && cp data/* /app/data/ \
 && ln -s /app/tp4/crates /app/notebooks/crates \
 && ln -s /app/data /app/notebooks/data \
 && ln -s /app/output /app/notebooks/output \
 && chmod -R a+rwX /home/etudiant /app

# From here on, cargo never goes to the network: everything the notebook needs is
# in the image.
ENV CARGO_NET_OFFLINE=true \
    RUST_BACKTRACE=0
WORKDIR /app/notebooks
EXPOSE 8888
# tini reaps the processes the kernel starts (exercises 4 and 5 start OS processes).
ENTRYPOINT ["tini", "--"]
# The token is kept: read it in `docker compose logs jupyter`. Writing in place
# (no atomic rename) keeps the single-file volume /app/notebooks/tp4.ipynb working.
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", \
     "--ServerApp.root_dir=/app/notebooks", \
     "--FileContentsManager.use_atomic_writing=False"]
