/**
 * The supply-chain steps the deployment runs per digest: the SBOM kept beside an image, the
 * vulnerability gate, the inventory report. The dynamic resources run them in their provider
 * process (components/steps.ts), and `supply/run.ts` runs one from the command line. A step that
 * fails throws a StepError: its message is for the user, one finding or problem a line.
 */
import * as path from "path";
import { LABELS } from "../contract";
import { AllowEntry } from "./allowlist";
import { summariseSbom } from "./cyclonedx";
import { parseTrivyReport, Severity } from "./findings";
import { decide } from "./gate";
import { fleetCache } from "../cache";
import { exec as run } from "../proc";
import { Registry } from "../registry";
import { reportBody } from "./report";
import { ScanReports } from "./scans";
import { supplyTools } from "./tools";

const PROJECT = path.resolve(__dirname, "..");
const CACHE = fleetCache();

/** Exits the step with a message for the user. */
export class StepError extends Error {}

/** Runs a tool without blocking the process (the provider process runs every step of an update); its output, or a StepError. */
async function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<string> {
  const r = await run(cmd, args, { env: { ...process.env, ...env } });
  if (r.status !== 0) throw new StepError(`${what} failed (exit ${r.status}):\n${r.stderr.trim().split("\n").slice(-15).join("\n")}`);
  return r.stdout;
}

/** The recorded tools; their absence is the user's to fix, in one line. */
function tools() {
  try {
    return supplyTools();
  } catch (e) {
    throw new StepError((e as Error).message);
  }
}

/** The image's SBOM: the one kept beside it in the registry, or a new one from syft, stored there. */
export async function sbom(req: { image: string; dockerHost: string }) {
  const registry = await Registry.forImage(req.image, req.dockerHost);
  const kept = await registry.getSbom(req.image);
  if (kept) return { artifact: kept.artifact, ...summariseSbom(kept.sbom), generated: false };
  const { syft } = tools();
  const doc = await exec(
    syft,
    ["scan", `registry:${req.image}`, "--output", "cyclonedx-json@1.6", "--quiet"],
    { SYFT_CHECK_FOR_APP_UPDATE: "false", SYFT_REGISTRY_INSECURE_USE_HTTP: String(registry.plainHttp), SYFT_CACHE_DIR: path.join(CACHE, "syft") },
    `syft on ${req.image}`,
  );
  const summary = summariseSbom(doc);
  const artifact = await registry.putSbom(req.image, doc, { "org.opencontainers.image.created": new Date().toISOString(), [LABELS.sbomGenerator]: "syft 1.18.1" });
  return { artifact, ...summary, generated: true };
}

/** Scans the image with Trivy and applies the gate; a failing gate is one line per finding. */
export async function scan(req: { service: string; image: string; severity: Severity; failOnUnfixed: boolean; dbDir: string; allowlist: AllowEntry[]; dockerHost: string }) {
  const { trivy, scanDb } = tools();
  // With a database directory given (fleet:scanDbDir, else FLEET_SCAN_DB_DIR: the test runs set it
  // for every stack; else the one scripts/supply-tools.sh chose where Trivy's own cannot be
  // downloaded), Trivy uses the database in it and never downloads one.
  const dbDir = req.dbDir || process.env.FLEET_SCAN_DB_DIR || scanDb;
  const cacheDir = dbDir ? path.resolve(PROJECT, dbDir) : path.join(CACHE, "trivy");
  const db = dbDir ? ["--cache-dir", cacheDir, "--skip-db-update", "--skip-java-db-update", "--offline-scan"] : ["--cache-dir", cacheDir];
  // A digest scanned before with this database is not scanned again (a rollback, another stack).
  const reports = new ScanReports(path.join(CACHE, "scans"));
  const database = ScanReports.databaseKey(cacheDir, !dbDir);
  // Layers are analysed in memory: the on-disk layer cache is one bolt file that concurrent scans
  // would wait on. The database is opened read-only, so scans with a given one run side by side;
  // Trivy's own database may be downloaded or updated by the scan, so those scans take turns.
  const args = ["image", "--quiet", "--format", "json", "--list-all-pkgs=false", "--scanners", "vuln", "--image-src", "remote", "--cache-backend", "memory", ...db, req.image];
  const lock = path.join(CACHE, "trivy.lock");
  const trivyReport = async () => {
    // Trivy reaches the registry as the stack's engine does: plain HTTP where the engine trusts it so.
    const { plainHttp } = await Registry.forImage(req.image, req.dockerHost);
    try {
      return await exec(dbDir ? trivy : "flock", dbDir ? args : [lock, trivy, ...args], { TRIVY_INSECURE: String(plainHttp), TRIVY_DISABLE_TELEMETRY: "true" }, `trivy on ${req.image}`);
    } catch (e) {
      if (!dbDir && /download vulnerability DB|failed to download/i.test((e as Error).message)) {
        throw new StepError(
          `fleet: ${req.service}: Trivy could not download its vulnerability database, so ${req.image} was not scanned and the running container was left as it was; run \`bash scripts/supply-tools.sh\` (it uses the advisories in test/fixtures/supply where Trivy's database cannot be downloaded) or set fleet:scanDbDir, then the update again`,
        );
      }
      throw e;
    }
  };
  const kept = reports.get(req.image, database);
  const report = kept ?? (await trivyReport());
  const findings = parseTrivyReport(report);
  if (!kept) reports.put(req.image, database, report);
  const verdict = decide(req.service, req.image, findings, req.allowlist, { severity: req.severity, failOnUnfixed: req.failOnUnfixed });
  if (!verdict.pass) {
    throw new StepError(
      `fleet: ${req.service}: the vulnerability gate stopped ${req.image} (${verdict.blocking.length} finding${verdict.blocking.length > 1 ? "s" : ""} at ${req.severity} or above${req.failOnUnfixed ? "" : " with a fixed version"}); the running container was left as it was:\n` +
        verdict.lines.join("\n") +
        `\nupgrade the package, or accept a finding in security/allowlist.yaml (id, package, reason, expires)`,
    );
  }
  return { findings: findings.length, allowed: verdict.allowed.map((a) => `${a.finding.id} in ${a.finding.package} (until ${a.entry.expires})`) };
}

/** POSTs the service's inventory record with its SBOM; never throws for an unreachable receiver. */
export async function report(req: { url: string; service: string; machine: string; stack: string; image: string; inputs: string; commit: string; dockerHost: string }) {
  const at = new Date().toISOString();
  try {
    const registry = await Registry.forImage(req.image, req.dockerHost);
    const kept = await registry.getSbom(req.image);
    if (!kept) return { delivered: false, at, error: `no SBOM is kept for ${req.image}` };
    const body = JSON.stringify(reportBody({ ...req, sbom: kept.sbom }));
    const r = await fetch(req.url, { method: "POST", headers: { "Content-Type": "application/json" }, body, signal: AbortSignal.timeout(30_000) });
    if (!r.ok) return { delivered: false, at, error: `${req.url} answered ${r.status}: ${(await r.text()).slice(0, 300)}` };
    return { delivered: true, at, error: "" };
  } catch (e) {
    return { delivered: false, at, error: `${req.url}: ${(e as Error).cause ?? (e as Error).message}` };
  }
}

