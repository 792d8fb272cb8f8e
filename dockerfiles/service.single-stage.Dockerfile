# check=skip=InvalidDefaultArgInFrom
# Baseline for `npm run bench:size` only, never deployed: the same service written the naive
# single-stage way that the fleet's multi-stage service.Dockerfile replaces. Compiler toolchain
# and headers installed "in case a dep needs building", apt lists kept, pip's cache kept in the
# layer, the whole context copied. Same build args as service.Dockerfile.

# No default: the bench always passes FAMILY (the build check that wants one is skipped above).
ARG FAMILY
FROM ${FAMILY}
USER root
RUN apt-get update && apt-get install -y build-essential python3-dev
WORKDIR /opt/app/src
COPY . /opt/app/src
# pip-ca: only so that it builds where TLS is inspected, as the real Dockerfiles do; no effect on size.
RUN --mount=type=bind,from=pip-ca,target=/run/pip-ca \
    if [ -s /run/pip-ca/ca.pem ]; then export PIP_CERT=/run/pip-ca/ca.pem; fi; \
    pip install --require-hashes -r requirements.lock
ARG SERVICE_NAME=reference-service
ARG SERVICE_PORT=8000
ARG HEALTH_PORT=8001
ENV SERVICE_NAME=${SERVICE_NAME} SERVICE_PORT=${SERVICE_PORT} HEALTH_PORT=${HEALTH_PORT} \
    PYTHONPATH=/opt/app/src
USER 10001:10001
HEALTHCHECK CMD ["python", "/usr/local/lib/fleet/healthcheck.py"]
ENTRYPOINT ["tini", "--"]
CMD ["python", "-m", "app"]
