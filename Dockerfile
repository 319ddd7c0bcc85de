# TP4 : fondamentaux du calcul parallèle et distribué — JupyterLab 4 with the Rust
# kernel evcxr (the default kernel), the Rust toolchain and the tp4 crate prebuilt.
#
# Layout:
#   /app/notebooks   the folder JupyterLab shows and the kernel runs in. Compose and
#                    the README mount the repository's root there (a folder, not the
#                    single file tp4.ipynb: a file replaced on the host, e.g. by
#                    `git checkout`, stays visible); without a mount it holds the
#                    pristine student notebook and links to crates/, data/, output/.
#   /app/data        transactions.csv, corpus.txt (volume ./data)
#   /app/output      what the lab writes (volume ./output)
#   /app/tp4         the workspace the image compiled (crates/, target/release/tp4)
#
# Layer order: everything expensive (the kernel, `cargo build`, the corrected notebook
# executed to fill evcxr's cache) depends only on Cargo.toml, Cargo.lock, crates/,
# notebook/tp4.md and the two notebook scripts. What students and teachers edit during
# the lab (tp4.ipynb, data/, output/, corrige/) is not even in the build context (see
# .dockerignore): the notebooks and the small data files are regenerated here, exactly
# as `tp4 notebook` and `tp4 donnees --lignes 10000 --mo 1` write them in the repository.
#
# Any uid can run the image (`user:` in docker-compose.yml, `docker run -u`): every step
# makes what it creates writable by all itself, so no later `chmod -R` copies a layer
# again, and it leaves no temporary files behind.
#
#   docker build -t tp4-jupyter .     (first time: well over an hour on 2 busy cores, see docs/docker.md)
#   docker compose up --build         (see docker-compose.yml and docs/docker.md)

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

# JupyterLab 4 and the headless executor used by the notebook step below.
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
      "jupyterlab>=4,<5" nbclient nbformat

# The standard library's sources (about 54 MB). evcxr's embedded rust-analyzer needs
# them and would otherwise run `rustup component add rust-src` itself, unseen, while the
# notebook executes: done here, explicitly.
RUN rustup component add rust-src \
 && rm -rf /usr/local/rustup/downloads/* /usr/local/rustup/tmp/*

# A normal user. Its home and /app are open to every uid (the host user's, with
# `user:` in docker-compose.yml); each later step opens what it creates.
RUN useradd --create-home --uid 1000 --shell /bin/bash etudiant \
 && mkdir -p /app/notebooks /app/data /app/output /app/tp4 \
 && chown -R etudiant:etudiant /app /home/etudiant \
 && chmod 0777 /home/etudiant /app /app/notebooks /app/data /app/output /app/tp4
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

# The workspace: manifests and Rust sources together (editing a Rust source runs the
# fetch and the build again; nothing else does).
COPY --chown=etudiant:etudiant Cargo.toml Cargo.lock ./
COPY --chown=etudiant:etudiant crates crates
RUN cargo fetch --locked \
 && chmod -R a+rwX "$CARGO_HOME"

# The tp4 command (also the worker processes of exercises 4 and 5: TP4_EXE). Only the
# executable is kept: the notebook's `:dep tp4` compiles in evcxr's own directory (its
# cache is filled below), so the intermediate files of target/ (about 570 MB) would only
# weigh on the image.
RUN cargo build --release --locked -p tp4-cli \
 && find target -mindepth 1 -maxdepth 1 ! -name release -exec rm -rf {} + \
 && find target/release -mindepth 1 -maxdepth 1 ! -name tp4 -exec rm -rf {} + \
 && chmod -R a+rwX target

# The CI steps (scripts/notebook-ci.sh): kernel registered, notebooks generated from
# notebook/tp4.md, data generated, corrected notebook executed with every check passing,
# which compiles its dependencies into evcxr's cache so that a student's first cell does
# not. Then: only what this step created is opened to every uid (`find -cnewer`), and
# evcxr's build directory in /tmp and the executed notebooks are removed.
COPY --chown=etudiant:etudiant notebook/tp4.md notebook/tp4.md
COPY --chown=etudiant:etudiant scripts/notebook-ci.sh scripts/notebook_check.py scripts/
# Seconds allowed per cell and per notebook. The first cell compiles every dependency:
# on a 2-core machine busy with other builds it took more than 900 s (the CI default).
# Raise them with --build-arg on a slower machine.
ARG TP4_NB_TIMEOUT=3600
ARG TP4_NB_TOTAL=7200
RUN touch /app/.layer-start \
 && ln -s /app/data data \
 && ln -s /app/output output \
 && tp4 notebook \
 && tp4 donnees --lignes 10000 --mo 1 \
 && TP4_BIN=/app/tp4/target/release/tp4 TP4_NB_OUT=/tmp/notebook-ci \
      bash scripts/notebook-ci.sh --only-corrected \
 && cp tp4.ipynb /app/notebooks/tp4.ipynb \
 && ln -s /app/tp4/crates /app/notebooks/crates \
 && ln -s /app/data /app/notebooks/data \
 && ln -s /app/output /app/notebooks/output \
 && rm -rf /app/output/* \
 && find /tmp -mindepth 1 -maxdepth 1 -user etudiant -exec rm -rf {} + \
 && find /home/etudiant /app -cnewer /app/.layer-start ! -type l -exec chmod a+rwX {} + \
 && rm /app/.layer-start

# From here on, cargo never goes to the network: everything the notebook needs is
# in the image.
ENV CARGO_NET_OFFLINE=true \
    RUST_BACKTRACE=0
# Starts JupyterLab for any uid (root included: it says so and adds --allow-root).
COPY scripts/docker-start.sh /usr/local/bin/tp4-jupyter
WORKDIR /app/notebooks
EXPOSE 8888
# tini reaps the processes the kernel starts (exercises 4 and 5 start OS processes).
ENTRYPOINT ["tini", "--"]
CMD ["tp4-jupyter"]
