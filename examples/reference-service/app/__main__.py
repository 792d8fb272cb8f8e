"""Entry point: ``python -m app`` (the image's CMD, under tini as PID 1).

uvicorn's own ``run()`` binds one socket; the fleet needs two (service and health port), so the
sockets are bound here and handed to uvicorn's server, or to its multi-process supervisor when
UVICORN_WORKERS > 1. The supervisor restarts dead workers and stops them all on SIGTERM, which
tini forwards from ``docker stop``.
"""
from __future__ import annotations

import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

from .settings import Settings, SettingsError


# How long a worker may go without answering its supervisor before it is taken for hung.
WORKER_ANSWER_SECONDS = 60


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", port))
    # The workers are spawned processes and receive the listening sockets from the supervisor.
    sock.set_inheritable(True)
    return sock


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        print(f"{__package__}: {err}", file=sys.stderr)
        return 2

    ports = sorted({settings.service_port, settings.health_port})
    sockets = [_listen(port) for port in ports]
    config = uvicorn.Config(
        # An import string, so that each spawned worker imports the app itself.
        "app.asgi:app",
        workers=settings.workers,
        lifespan="on",
        # Health probes every few seconds would drown the log.
        access_log=False,
        # The server header only tells a scanner which server and version to try.
        server_header=False,
        # The supervisor pings each worker and kills one that does not answer in this many seconds.
        # uvicorn's 5 s kills a worker that is still starting on a loaded machine, or busy loading a
        # model, and then its replacement, over and over: the service never answers.
        timeout_worker_healthcheck=WORKER_ANSWER_SECONDS,
    )
    print(
        f"{settings.service_name}: serving on port {settings.service_port}, health on "
        f"{settings.health_port}, {settings.workers} worker(s), inputs {settings.inputs[:12]}",
        flush=True,
    )
    if settings.workers > 1:
        Multiprocess(config, sockets=sockets).run()
    else:
        uvicorn.Server(config).run(sockets=sockets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
