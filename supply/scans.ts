import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/**
 * Trivy's reports, kept per image digest and vulnerability database: the same database finds the
 * same in the same digest, so a digest scanned before (a rollback to it, a second stack deploying
 * it) is not scanned again. The gate's verdict is always decided afresh from the kept report, with
 * today's allowlist and severity.
 */
export class ScanReports {
  constructor(private readonly dir: string) {}

  /**
   * The database's identity: a hash of its `db/metadata.json` under `cacheDir`. Undefined, so
   * nothing is kept, when there is none yet or when Trivy would update it on its next scan (its
   * own database, past NextUpdate): a report is only as good as the database that made it.
   */
  static databaseKey(cacheDir: string, updatedByTrivy: boolean, now: Date = new Date()): string | undefined {
    let text: string;
    try {
      text = fs.readFileSync(path.join(cacheDir, "db", "metadata.json"), "utf8");
    } catch {
      return undefined;
    }
    if (updatedByTrivy) {
      const next = Date.parse((JSON.parse(text) as { NextUpdate?: string }).NextUpdate ?? "");
      if (!(next > now.getTime())) return undefined;
    }
    return createHash("sha256").update(text).digest("hex").slice(0, 16);
  }

  /** The report kept for `image` (`repo@sha256:...`) and `database`, if any. */
  get(image: string, database: string | undefined): string | undefined {
    if (!database) return undefined;
    try {
      return fs.readFileSync(this.file(image, database), "utf8");
    } catch {
      return undefined;
    }
  }

  /** Keeps `report` for `image` and `database` (written whole, then renamed into place). */
  put(image: string, database: string | undefined, report: string): void {
    if (!database) return;
    const file = this.file(image, database);
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, report);
    fs.renameSync(tmp, file);
  }

  private file(image: string, database: string): string {
    const digest = /@sha256:([0-9a-f]{64})$/.exec(image)?.[1];
    if (!digest) throw new Error(`not a pinned image reference: ${image}`);
    return path.join(this.dir, `${digest}-${database}.json`);
  }
}
