# family-torch-cu121: torch 2.3 built for CUDA 12.1 on top of base-cpu-pydeps.
#   The CUDA 12.1 runtime comes as nvidia-*-cu12 wheels in the lock, so there is no CUDA base
#   image; the driver (libcuda) is injected at runtime by the NVIDIA container runtime.
#   The local stack and CI build it with LOCK=requirements/family-torch-cu121.cpu.lock.
# Build: context = dockerfiles/, BASE = base-cpu-pydeps as repo@sha256:...,
#        LOCK = hash-locked requirements in the context (default below).

ARG BASE

# ---- builder: installs into /install only what the parent does not already carry ----------
FROM ${BASE} AS builder
USER root
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
ARG LOCK=requirements/family-torch-cu121.lock
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
# Asks the NVIDIA container runtime for the compute libraries only (no graphics, no video);
# which GPU a container sees is decided by its device request, not by the image.
# Downloaded weights go to the /data volume (the root filesystem is read-only).
ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    TORCH_HOME=/data/torch
# Maps the profile's TORCH_CUDA_ALLOC_CONF to the PYTORCH_CUDA_ALLOC_CONF that torch reads,
# at every interpreter start (an import line in a .pth file).
COPY fleet_torch_env.py fleet-torch-env.pth /opt/venv/lib/python3.11/site-packages/
USER 10001:10001
