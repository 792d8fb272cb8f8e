"""What runs where: the reports the fleet sends after each deploy (plan phase 5).

``POST /sbom`` receives ``{service, machine, stack, image, digest, inputs, commit, sbom}``; the record
and the SBOM are stored under the data directory (the container's ``/data`` volume, so they
survive a replacement), each written to a temporary file and renamed into place, so a reader or a
crash never sees half a file. A body that is not valid is refused whole before anything is written:
what was stored stays as it was. ``GET /inventory`` lists the latest record of every service.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# Largest body accepted: an SBOM of a big image is a few MB of JSON.
MAX_BODY = 32 * 1024 * 1024

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_IMAGE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@(sha256:[0-9a-f]{64})$")
_INPUTS = re.compile(r"^([0-9a-f]{64}|pinned|unknown)$")
_COMMIT = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64}|unknown)$")


class BadReport(ValueError):
    """The body cannot be stored; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def data_dir() -> Path:
    """Where reports are kept: FLEET_DATA_DIR, or the container's /data volume."""
    return Path(os.environ.get("FLEET_DATA_DIR", "/data"))


def _field(body: dict[str, Any], key: str, pattern: re.Pattern[str], allowed: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not pattern.match(value):
        shown = json.dumps(value)[:80] if key in body else "nothing"
        raise BadReport(f"{key}: must be {allowed}; got {shown}")
    return value


def parse_report(raw: bytes) -> dict[str, Any]:
    """Checks a POST /sbom body; raises BadReport naming the first field that is wrong."""
    if len(raw) > MAX_BODY:
        raise BadReport(f"body: must be at most {MAX_BODY} bytes; got {len(raw)}", 413)
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadReport(f"body: must be a JSON object; it is not JSON ({err})") from None
    if not isinstance(body, dict):
        raise BadReport(f"body: must be a JSON object; got a {type(body).__name__}")
    unknown = sorted(set(body) - {"service", "machine", "stack", "image", "digest", "inputs", "commit", "sbom"})
    if unknown:
        raise BadReport(f"body: unknown keys {', '.join(unknown)}; allowed: service, machine, stack, image, digest, inputs, commit, sbom")
    report = {
        "service": _field(body, "service", _NAME, "a service name like UnifiedObservabilityCenter"),
        "machine": _field(body, "machine", _SLUG, "a machine name like mainpc"),
        "stack": _field(body, "stack", _SLUG, "a stack name like mainpc"),
        "image": _field(body, "image", _IMAGE, "an image pinned by digest, host/repo@sha256:<64 hex>"),
        "digest": _field(body, "digest", _DIGEST, "sha256:<64 hex>"),
        "inputs": _field(body, "inputs", _INPUTS, "the sha256 of the image's inputs, 64 hex (or 'pinned', 'unknown')"),
        "commit": _field(body, "commit", _COMMIT, "a git commit (or 'unknown')"),
    }
    if not report["image"].endswith("@" + report["digest"]):
        raise BadReport(f"digest: must be the image's own digest ({report['image'].rsplit('@', 1)[1]}); got {json.dumps(report['digest'])}")
    sbom = body.get("sbom")
    if not isinstance(sbom, dict) or sbom.get("bomFormat") != "CycloneDX" or not isinstance(sbom.get("components"), list):
        raise BadReport("sbom: must be a CycloneDX JSON document with a components list")
    report["sbom"] = sbom
    return report


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def store(report: dict[str, Any], root: Path, now: datetime | None = None) -> dict[str, Any]:
    """Stores the SBOM (by digest) and then the service's record (the latest per stack, machine, service)."""
    sbom_rel = f"sbom/{report['digest'].split(':', 1)[1]}.cdx.json"
    _write_atomic(root / sbom_rel, json.dumps(report["sbom"], separators=(",", ":")).encode())
    record = {
        "service": report["service"],
        "machine": report["machine"],
        "stack": report["stack"],
        "image": report["image"],
        "digest": report["digest"],
        "inputs": report["inputs"],
        "commit": report["commit"],
        "components": len(report["sbom"]["components"]),
        "reportedAt": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "sbom": sbom_rel,
    }
    path = root / "inventory" / report["stack"] / report["machine"] / f"{report['service']}.json"
    _write_atomic(path, json.dumps(record, sort_keys=True).encode())
    return record


def inventory(root: Path) -> dict[str, Any]:
    """Every stored record, sorted by stack, machine and service."""
    records = []
    for path in sorted((root / "inventory").glob("*/*/*.json")):
        records.append(json.loads(path.read_text()))
    return {"services": records}
