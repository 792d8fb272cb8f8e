# check=skip=InvalidDefaultArgInFrom
# The one Dockerfile of every fleet service, multi-stage.
# Build: context = the service's source folder (requirements.lock + the `app` package),
#   FAMILY = the family image as repo@sha256:..., SERVICE_NAME, SERVICE_PORT, HEALTH_PORT.
#   Hardware settings are not build args: one image serves every machine, the profile arrives
#   as container environment.

# No default: the program always passes FAMILY (the build check that wants one is skipped above).
ARG FAMILY

# ---- builder: the service's own locked deps into a separate prefix, and its bytecode --------
FROM ${FAMILY} AS builder
USER root
# SOURCE_DATE_EPOCH (one fixed instant for every image, see components/images.ts) is declared in
# every stage that makes files, so that those steps are cached per epoch: a layer reused from a
# build made with an earlier epoch would keep its older file times, which rewrite-timestamp (it
# only lowers newer times) leaves as they are.
ARG SOURCE_DATE_EPOCH
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
COPY requirements.lock /tmp/requirements.lock
# Hash-checked wheels only (CIS 4.11). What the family's venv already carries at the same
# version is skipped, so on a family that has the service's deps nothing is added.
# pip-ca: the optional CA bundle's build context (see base-cpu-pydeps), never stored in the image.
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=bind,from=pip-ca,target=/run/pip-ca \
    if [ -s /run/pip-ca/ca.pem ]; then export PIP_CERT=/run/pip-ca/ca.pem; fi \
 && mkdir -p /opt/app/deps \
 && pip install --prefix=/opt/app/deps --require-hashes --no-deps --only-binary=:all: \
      --no-compile --no-warn-script-location -r /tmp/requirements.lock
COPY app/ /opt/app/src/app/
# Bytecode is compiled at build time because the runtime root filesystem is read-only, as
# unchecked-hash pycs that depend on file contents only, not on timestamps.
RUN python -c "import compileall, py_compile; compileall.compile_dir('/opt/app', force=True, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)"

# ---- runtime: the family plus the service's deps and code, nothing of the builder ----------
FROM ${FAMILY}
COPY --from=builder /opt/app/deps /opt/app/deps
COPY --from=builder /opt/app/src /opt/app/src
ARG SERVICE_NAME=reference-service
ARG SERVICE_PORT=8000
ARG HEALTH_PORT=8001
# The digest of the image's inputs (its dev.fleet.inputs label, a function of content only, not of
# git history) belongs to the image, not to the container: pinning a service to the digest it
# already runs changes nothing.
ARG FLEET_INPUTS=unknown
# The prefix layout of Debian's python3.11: <prefix>/lib/python3.11/site-packages.
ENV SERVICE_NAME=${SERVICE_NAME} \
    SERVICE_PORT=${SERVICE_PORT} \
    HEALTH_PORT=${HEALTH_PORT} \
    FLEET_INPUTS=${FLEET_INPUTS} \
    PYTHONPATH=/opt/app/src:/opt/app/deps/lib/python3.11/site-packages
LABEL org.opencontainers.image.title=${SERVICE_NAME}
EXPOSE ${SERVICE_PORT} ${HEALTH_PORT}
WORKDIR /opt/app/src
USER 10001:10001
# The probe (from base-cpu-pydeps) reads HEALTH_PORT from the environment, so a port changed at
# runtime is still the one probed.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "/usr/local/lib/fleet/healthcheck.py"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "--"]
CMD ["python", "-m", "app"]
