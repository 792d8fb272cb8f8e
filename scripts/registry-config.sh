#!/usr/bin/env bash
# Prints the config of a fleet registry (the distribution registry Debian packages as
# docker-registry), the one place that says how every fleet registry runs: the shared one
# (infra.sh), private ones (engine.sh) and the home one (home-registry.sh).
#   bash scripts/registry-config.sh STORAGE_DIR LISTEN_ADDR > config.yml
# Deletes are refused: every digest a stack ever ran stays pullable, because rollback needs it.
set -euo pipefail
(($# == 2)) || { echo "usage: registry-config.sh STORAGE_DIR LISTEN_ADDR" >&2; exit 2; }
cat <<CONF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $1
  delete:
    enabled: false
  cache:
    blobdescriptor: inmemory
http:
  addr: $2
  headers:
    X-Content-Type-Options: [nosniff]
CONF
