"""The ASGI application: plain ASGI, so the only dependency is the server (uvicorn).

One application object serves both listening sockets and routes by the local port: the health
port answers only ``GET /health`` (so a probe never reaches service routes), the service port
answers ``/``, ``/info``, and the inventory routes ``POST /sbom`` and ``GET /inventory`` (see
inventory.py; the ObservabilityCenter is the one the fleet reports to). Every worker serves both ports, so a healthy answer means a worker
that also takes traffic is alive.
"""
from __future__ import annotations

import json
import os
from typing import Any, Awaitable, Callable

from . import inventory
from .settings import Settings

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

# The exact bytes of the fleet's health contract (the plan: /health -> {"status":"ok"}).
HEALTH_BODY = b'{"status":"ok"}'

SETTINGS = Settings.from_env()


def info(settings: Settings) -> dict[str, Any]:
    """What this worker runs with: identity, its image's inputs digest and the hardware profile as received."""
    return {
        "service": settings.service_name,
        "inputs": settings.inputs,
        "uid": os.getuid(),
        "gid": os.getgid(),
        "pid": os.getpid(),
        "workers": settings.workers,
        "ports": {"service": settings.service_port, "health": settings.health_port},
        "profile": dict(settings.profile),
    }


async def _respond(send: Send, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        # Nothing to load; answering lifespan keeps uvicorn from logging that it is unsupported.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return

    method, path = scope["method"], scope["path"]
    local_port = (scope.get("server") or (None, None))[1]
    on_health_port = local_port == SETTINGS.health_port
    on_service_port = local_port == SETTINGS.service_port

    if path == "/sbom" and on_service_port:
        if method != "POST":
            await _respond(send, 405, _json({"error": "method not allowed; POST a report here"}))
        else:
            await _receive_report(scope, receive, send)
    elif method != "GET":
        await _respond(send, 405, _json({"error": "method not allowed"}))
    elif path == "/health" and on_health_port:
        await _respond(send, 200, HEALTH_BODY)
    elif path == "/" and on_service_port:
        await _respond(send, 200, _json({"service": SETTINGS.service_name}))
    elif path == "/info" and on_service_port:
        await _respond(send, 200, _json(info(SETTINGS)))
    elif path == "/inventory" and on_service_port:
        await _respond(send, 200, _json(inventory.inventory(inventory.data_dir())))
    else:
        await _respond(send, 404, _json({"error": "not found", "path": path}))


async def _receive_report(scope: Scope, receive: Receive, send: Send) -> None:
    headers = dict(scope.get("headers") or [])
    if headers.get(b"content-type", b"").split(b";")[0].strip() != b"application/json":
        await _respond(send, 415, _json({"error": "content-type: must be application/json"}))
        return
    raw = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        raw += message.get("body", b"")
        if len(raw) > inventory.MAX_BODY:
            await _respond(send, 413, _json({"error": f"body: must be at most {inventory.MAX_BODY} bytes"}))
            return
        if not message.get("more_body"):
            break
    try:
        report = inventory.parse_report(bytes(raw))
    except inventory.BadReport as err:
        await _respond(send, err.status, _json({"error": str(err)}))
        return
    record = inventory.store(report, inventory.data_dir())
    await _respond(send, 201, _json(record))
