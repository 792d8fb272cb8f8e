"""The inventory's receiving side: checks, atomic storage, and nothing lost on a bad body."""
from __future__ import annotations

import json
import tempfile
import unittest
from datetime import datetime, timezone
from pathlib import Path

from app import inventory

DIGEST = "sha256:" + "d" * 64
GOOD = {
    "service": "CentralErrorBus",
    "machine": "local",
    "stack": "e2e-supply",
    "image": "127.0.0.1:5000/e2e-supply/central-error-bus@" + DIGEST,
    "digest": DIGEST,
    "inputs": "a" * 64,
    "commit": "f" * 40,
    "sbom": {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a"}, {"name": "b"}]},
}


def body(**changes: object) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


class InventoryTest(unittest.TestCase):
    def setUp(self) -> None:
        self.root = Path(tempfile.mkdtemp())

    def test_stores_the_record_and_the_sbom_and_lists_them(self) -> None:
        now = datetime(2026, 6, 1, tzinfo=timezone.utc)
        record = inventory.store(inventory.parse_report(body()), self.root, now)
        self.assertEqual(record["components"], 2)
        self.assertEqual(record["reportedAt"], "2026-06-01T00:00:00+00:00")
        listed = inventory.inventory(self.root)["services"]
        self.assertEqual([(r["service"], r["digest"], r["inputs"], r["commit"], r["components"]) for r in listed], [("CentralErrorBus", DIGEST, "a" * 64, "f" * 40, 2)])
        self.assertEqual(json.loads((self.root / record["sbom"]).read_text()), GOOD["sbom"])
        self.assertEqual([p.name for p in self.root.rglob(".*")], [], "no temporary file is left")

    def test_a_new_digest_replaces_the_service_record(self) -> None:
        inventory.store(inventory.parse_report(body()), self.root)
        other = "sha256:" + "e" * 64
        inventory.store(inventory.parse_report(body(image=GOOD["image"].replace(DIGEST, other), digest=other)), self.root)
        self.assertEqual([r["digest"] for r in inventory.inventory(self.root)["services"]], [other])

    def test_bad_bodies_are_refused_with_the_field_and_nothing_stored_is_lost(self) -> None:
        inventory.store(inventory.parse_report(body()), self.root)
        before = inventory.inventory(self.root)
        cases = {
            b"not json": r"body: must be a JSON object; it is not JSON",
            b"[1]": r"body: must be a JSON object; got a list",
            body(service="../etc"): r'service: must be a service name .*; got "\.\./etc"',
            body(image="127.0.0.1:5000/x:latest"): r"image: must be an image pinned by digest",
            body(digest="sha256:" + "0" * 64): r"digest: must be the image's own digest",
            body(sbom={"spdxVersion": "SPDX-2.3"}): r"sbom: must be a CycloneDX JSON document",
            body(extra=1): r"body: unknown keys extra",
            json.dumps({k: v for k, v in GOOD.items() if k != "inputs"}).encode(): r"inputs: must be the sha256 of the image's inputs, 64 hex \(or 'pinned', 'unknown'\); got nothing",
            body(commit="HEAD"): r'commit: must be a git commit \(or \'unknown\'\); got "HEAD"',
            body(revision="f" * 40): r"body: unknown keys revision",
        }
        for raw, message in cases.items():
            with self.subTest(raw=raw[:40]):
                with self.assertRaisesRegex(inventory.BadReport, message) as caught:
                    inventory.parse_report(raw)
                self.assertEqual(caught.exception.status, 400)
        self.assertEqual(inventory.inventory(self.root), before)

    def test_an_oversized_body_is_413(self) -> None:
        with self.assertRaises(inventory.BadReport) as caught:
            inventory.parse_report(b" " * (inventory.MAX_BODY + 1))
        self.assertEqual(caught.exception.status, 413)


if __name__ == "__main__":
    unittest.main()
