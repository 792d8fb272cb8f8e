import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ScanReports } from "../../supply/scans";
import { tempDir } from "../support/project";

/** A Trivy cache folder whose database says `metadata`. */
function database(root: string, metadata: object): string {
  const dir = fs.mkdtempSync(path.join(root, "db-"));
  fs.mkdirSync(path.join(dir, "db"));
  fs.writeFileSync(path.join(dir, "db", "metadata.json"), JSON.stringify(metadata));
  return dir;
}

describe("scan reports kept per digest and database", () => {
  let root: string;
  const image = `127.0.0.1:5000/fleet/central-error-bus@sha256:${"a".repeat(64)}`;
  const other = `127.0.0.1:5000/fleet/central-error-bus@sha256:${"b".repeat(64)}`;
  before(() => (root = tempDir("fleet-scans-")));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("gives back the report of a digest scanned with the same database, and nothing for another digest", () => {
    const reports = new ScanReports(path.join(root, "kept-1"));
    const db = ScanReports.databaseKey(database(root, { Version: 2, UpdatedAt: "2026-11-01T00:00:00Z" }), false);
    assert.ok(db);
    reports.put(image, db, '{"Results":[]}');
    assert.equal(reports.get(image, db), '{"Results":[]}');
    assert.equal(reports.get(other, db), undefined);
  });

  it("scans again when the database changed", () => {
    const reports = new ScanReports(path.join(root, "kept-2"));
    const before = ScanReports.databaseKey(database(root, { Version: 2, UpdatedAt: "2026-11-01T00:00:00Z" }), false);
    const after = ScanReports.databaseKey(database(root, { Version: 2, UpdatedAt: "2026-11-02T00:00:00Z" }), false);
    assert.notEqual(before, after);
    reports.put(image, before, "old");
    assert.equal(reports.get(image, after), undefined);
  });

  it("keeps nothing for Trivy's own database once it is due for an update, or for a folder without a database", () => {
    const now = new Date("2026-12-03T00:00:00Z");
    const due = database(root, { Version: 2, NextUpdate: "2026-12-02T00:00:00Z" });
    const fresh = database(root, { Version: 2, NextUpdate: "2026-12-04T00:00:00Z" });
    assert.equal(ScanReports.databaseKey(due, true, now), undefined, "Trivy would update it: a kept report would skip that");
    assert.ok(ScanReports.databaseKey(due, false, now), "a database used as it is (fleet:scanDbDir) is never updated");
    assert.ok(ScanReports.databaseKey(fresh, true, now));
    assert.equal(ScanReports.databaseKey(fs.mkdtempSync(path.join(root, "empty-")), false, now), undefined);
    const reports = new ScanReports(path.join(root, "kept-3"));
    reports.put(image, undefined, "report");
    assert.equal(fs.existsSync(path.join(root, "kept-3")), false, "nothing written without a database key");
  });

  it("refuses an image not pinned by digest", () => {
    assert.throws(() => new ScanReports(path.join(root, "kept-4")).put("127.0.0.1:5000/fleet/x:latest", "k", "r"), /not a pinned image reference/);
  });
});
