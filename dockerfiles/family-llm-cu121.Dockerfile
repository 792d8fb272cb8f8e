# family-llm-cu121: LLM serving deps (transformers, accelerate, tokenizers...) on top of
#   family-torch-cu121. The local stack and CI build it with
#   LOCK=requirements/family-llm-cu121.cpu.lock.
# Build: context = dockerfiles/, BASE = family-torch-cu121 as repo@sha256:...,
#        LOCK = hash-locked requirements in the context (default below).

ARG BASE

# ---- builder: installs into /install only what the parent does not already carry ----------
FROM ${BASE} AS builder
USER root
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
ARG LOCK=requirements/family-llm-cu121.lock
COPY ${LOCK} /tmp/requirements.lock
# The lock is the full closure, pinned to the parent's versions; pip skips what the parent's
# venv already has and writes the rest to a separate prefix, so the runtime stage copies only
# the new files. pip-ca: optional CA bundle as a build secret (see base-cpu-pydeps).
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=secret,id=pip-ca \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
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
# Model hub downloads go to the /data volume (the root filesystem is read-only); telemetry off.
ENV HF_HOME=/data/huggingface \
    HF_HUB_DISABLE_TELEMETRY=1 \
    TOKENIZERS_PARALLELISM=false
USER 10001:10001
