# check=skip=InvalidDefaultArgInFrom
# base-cpu-pydeps: the root family of the fleet.
#   Debian bookworm's python3 (3.11) in a venv at /opt/venv, tini as PID 1, the non-root user
#   appuser 10001:10001 (created here once for every image), and the common pinned deps.
# Build: context = dockerfiles/, BASE = the Debian base image as repo@sha256:...,
#        LOCK = hash-locked requirements in the context (default below).

# No default: the program always passes BASE (the build check that wants one is skipped above).
ARG BASE

# ---- os: the OS layer shared by the builder and the final image ----------------------------
FROM ${BASE} AS os
# python3 is Debian's meta package (fixed for all of bookworm); python3.11 itself is left to
# follow the security suite, since pinning it would break the build at the next update.
ARG PYTHON3_VERSION=3.11.2-1+b1
ARG TINI_VERSION=0.19.0-1+b3
ARG DEBIAN_FRONTEND=noninteractive
# Given, SOURCE_DATE_EPOCH dates the user's /etc/shadow entry (and, with BuildKit's
# rewrite-timestamp export, every file), so that the same inputs give the same digest.
ARG SOURCE_DATE_EPOCH
# One RUN so that the apt lists never reach a layer, nor logs and ldconfig's aux-cache, which
# differ from build to build. The user is created here, once, so that every family and
# service image agrees on 10001:10001. setuid/setgid bits are stripped last (CIS Docker
# Benchmark 4.8), after every package that could bring one.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      "python3=${PYTHON3_VERSION}" \
      "tini=${TINI_VERSION}" \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old \
      /var/lib/dpkg/*-old /var/log/apt /var/log/dpkg.log /var/log/alternatives.log \
      /var/cache/ldconfig/aux-cache \
 && groupadd --gid 10001 appuser \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin appuser \
 && install -d -o 10001 -g 10001 -m 0750 /data \
 && find / -xdev -perm /6000 -type f -exec chmod a-s {} +

# ---- builder: creates the venv and installs the locked deps into it -------------------------
FROM os AS builder
# SOURCE_DATE_EPOCH (one fixed instant for every image, see components/images.ts) is declared in
# every stage that makes files, so that those steps are cached per epoch: a layer reused from a
# build made with an earlier epoch would keep its older file times, which rewrite-timestamp (it
# only lowers newer times) leaves as they are.
ARG SOURCE_DATE_EPOCH
ARG PYTHON3_VERSION=3.11.2-1+b1
ARG DEBIAN_FRONTEND=noninteractive
# python3-venv (ensurepip and its wheels) is needed only to create the venv.
RUN apt-get update \
 && apt-get install -y --no-install-recommends "python3-venv=${PYTHON3_VERSION}" \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
RUN python3 -m venv /opt/venv
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
ARG LOCK=requirements/base-cpu-pydeps.lock
COPY ${LOCK} /tmp/requirements.lock
# Wheels only, each checked against its sha256 in the lock (CIS 4.11); the lock is the full
# closure, so --no-deps. The pip cache lives in a BuildKit cache mount, never in a layer.
# pip-ca: the build context of that name, holding ca.pem, the CA bundle of a network that inspects
# TLS (public data), or nothing. Bound for this step only, so it is never stored in the image.
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=bind,from=pip-ca,target=/run/pip-ca \
    if [ -s /run/pip-ca/ca.pem ]; then export PIP_CERT=/run/pip-ca/ca.pem; fi \
 && /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: --no-compile \
      -r /tmp/requirements.lock
# Bytecode (pip's own too) is compiled here, not by pip, as unchecked-hash pycs: the runtime
# root filesystem is read-only (Python cannot cache bytecode there), and these pycs depend on
# file contents only, not on timestamps, so they stay valid when layer timestamps are
# normalised. Like pip, a file that does not compile (templates, Python 2 leftovers) is
# skipped, not fatal.
RUN find /opt/venv -name __pycache__ -type d -prune -exec rm -rf {} + \
 && /opt/venv/bin/python -c "import compileall, py_compile; compileall.compile_dir('/opt/venv', force=True, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)"

# ---- runtime ------------------------------------------------------------------------------
FROM os
COPY --from=builder /opt/venv /opt/venv
COPY healthcheck.py /usr/local/lib/fleet/healthcheck.py
# Maps the profile's settings to what the libraries read, at every interpreter start.
COPY fleet_env.py fleet-env.pth /opt/venv/lib/python3.11/site-packages/
# The root filesystem may be read-only at runtime (only /tmp and /data are writable):
# no bytecode writes, HOME and caches under /tmp.
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    LANG=C.UTF-8
WORKDIR /tmp
USER 10001:10001
# tini reaps zombies and forwards SIGTERM from `docker stop` to the app.
ENTRYPOINT ["tini", "--"]
STOPSIGNAL SIGTERM
CMD ["python"]
