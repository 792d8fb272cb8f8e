# check=skip=InvalidDefaultArgInFrom
# Every family below the root (family-cpu-pydeps, family-web, family-torch-cu121,
# family-llm-cu121): its parent plus the packages of its lock, nothing else. What sets the families
# apart is only their lock; settings they need at run time come from the root family's start-up
# hook (fleet_env.py) and, for GPUs, from the container's environment.
# Build: context = dockerfiles/, BASE = the parent family as repo@sha256:...,
#        LOCK = the family's hash-locked requirements in the context.

# No default: the program always passes BASE (the build check that wants one is skipped above).
ARG BASE

# ---- builder: installs into /install only what the parent does not already carry ----------
FROM ${BASE} AS builder
USER root
# SOURCE_DATE_EPOCH (one fixed instant for every image, see components/images.ts) is declared in
# every stage that makes files, so that those steps are cached per epoch: a layer reused from a
# build made with an earlier epoch would keep its older file times, which rewrite-timestamp (it
# only lowers newer times) leaves as they are.
ARG SOURCE_DATE_EPOCH
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
ARG LOCK
COPY ${LOCK} /tmp/requirements.lock
# The lock is the full closure, pinned to the parent's versions; pip skips what the parent's
# venv already has and writes the rest to a separate prefix, so the runtime stage copies only
# the new files. pip-ca: the optional CA bundle's build context (see base-cpu-pydeps).
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=bind,from=pip-ca,target=/run/pip-ca \
    if [ -s /run/pip-ca/ca.pem ]; then export PIP_CERT=/run/pip-ca/ca.pem; fi \
 && mkdir -p /install \
 && pip install --prefix=/install --require-hashes --no-deps --only-binary=:all: --no-compile \
      --no-warn-script-location -r /tmp/requirements.lock
# Bytecode is compiled here, not by pip, as unchecked-hash pycs: the runtime root filesystem is
# read-only (Python cannot cache bytecode there), and these pycs depend on file contents only,
# not on timestamps, so they stay valid when layer timestamps are normalised. Like pip, a file
# that does not compile (templates, Python 2 leftovers) is skipped, not fatal.
RUN python -c "import compileall, py_compile; compileall.compile_dir('/install', force=True, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)"

# ---- runtime ------------------------------------------------------------------------------
FROM ${BASE}
COPY --from=builder /install/ /opt/venv/
USER 10001:10001
