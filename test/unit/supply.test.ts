import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { run } from "../../proc";
import { reportProvider } from "../../components/inventoryReport";
import { FleetInputError } from "../../errors";
import { sbomTag } from "../../registry";
import { AllowEntry, decide, loadAllowlist, parseAllowlist, parseTrivyReport, reportBody, summariseSbom } from "../../supply";
import { REPO, tempDir } from "../support/project";
import { fleetCommand } from "../support/cli";

const FIXTURES = path.join(REPO, "test/fixtures/supply");
const TODAY = new Date("2026-06-01T12:00:00Z");
const IMAGE = `127.0.0.1:5000/e2e-supply/vulnerable@sha256:${"c".repeat(64)}`;

/** parseAllowlist on `yaml` must throw a FleetInputError whose message matches `re`. */
function rejects(yaml: string, re: RegExp) {
  assert.throws(() => parseAllowlist(yaml, "security/allowlist.yaml", TODAY), (e: unknown) => {
    assert.ok(e instanceof FleetInputError, `expected a FleetInputError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

describe("the allowlist", () => {
  it("reads entries with an id, an optional package, a reason and an expiry date", () => {
    const entries = parseAllowlist(
      `entries:\n  - id: CVE-2024-1135\n    package: gunicorn\n    reason: never started, upgrade planned\n    expires: "2026-06-01"\n  - id: GHSA-w3h3-4rj7-4ph4\n    reason: accepted for the demo\n    expires: 2027-01-31\n`,
      "security/allowlist.yaml",
      TODAY,
    );
    assert.deepEqual(entries, [
      { id: "CVE-2024-1135", package: "gunicorn", reason: "never started, upgrade planned", expires: "2026-06-01" },
      { id: "GHSA-w3h3-4rj7-4ph4", reason: "accepted for the demo", expires: "2027-01-31" },
    ]);
  });

  it("is empty when the file has no entries, or is missing", () => {
    assert.deepEqual(parseAllowlist("entries: []\n", "f", TODAY), []);
    assert.deepEqual(loadAllowlist(tempDir("fleet-allow-")), []);
    assert.deepEqual(loadAllowlist(REPO), [], "the project's own allowlist accepts nothing");
  });

  it("rejects an entry whose expiry date has passed, naming it and the date", () => {
    rejects(`entries:\n  - id: CVE-2024-1135\n    package: gunicorn\n    reason: never started, upgrade planned\n    expires: "2026-05-31"\n`, /security\/allowlist\.yaml: entries\[0\] \(CVE-2024-1135 in gunicorn\): expired on 2026-05-31; fix the finding, or renew the entry with a new date and reason; got "2026-05-31"/);
  });

  it("rejects a malformed id, date, reason or key, naming the entry and the value", () => {
    rejects(`entries:\n  - id: cve 2024\n    reason: some good reason\n    expires: "2027-01-01"\n`, /entries\[0\]\.id: must be an advisory id like CVE-2024-1135 or GHSA-w3h3-4rj7-4ph4; got "cve 2024"/);
    rejects(`entries:\n  - id: CVE-2024-1135\n    reason: some good reason\n    expires: "2027-02-30"\n`, /entries\[0\]\.expires: must be a real calendar date YYYY-MM-DD; got "2027-02-30"/);
    rejects(`entries:\n  - id: CVE-2024-1135\n    reason: some good reason\n    expires: next year\n`, /entries\[0\]\.expires: must be a date YYYY-MM-DD; got "next year"/);
    rejects(`entries:\n  - id: CVE-2024-1135\n    expires: "2027-01-01"\n`, /entries\[0\]\.reason: is required: must say why the finding is accepted/);
    rejects(`entries:\n  - id: CVE-2024-1135\n    reason: ok\n    expires: "2027-01-01"\n`, /entries\[0\]\.reason: must say why the finding is accepted \(10 characters at least\); got "ok"/);
    rejects(`entries:\n  - id: CVE-2024-1135\n    reason: some good reason\n    expires: "2027-01-01"\n    until: x\n`, /entries\[0\]: unknown key "until"/);
    rejects(`- id: CVE-2024-1135\n`, /security\/allowlist\.yaml: must be a mapping with one key, entries/);
    rejects(`entries: [\n`, /security\/allowlist\.yaml: is not valid YAML/);
  });
});

describe("the vulnerability gate", () => {
  // Recorded from `trivy image --format json` (Trivy 0.74.0) on an image holding gunicorn 21.2.0,
  // with the database scripts/scan-test-db.sh builds from the GHSA record in the fixtures.
  const recorded = fs.readFileSync(path.join(FIXTURES, "trivy-gunicorn.json"), "utf8");
  const findings = parseTrivyReport(recorded);
  const HIGH = { severity: "HIGH", failOnUnfixed: false } as const;
  const entry = (e: Partial<AllowEntry>): AllowEntry => ({ id: "CVE-2024-1135", reason: "accepted for the test", expires: "2027-01-01", ...e });

  it("reads the advisory, package, installed and fixed versions from the recorded report", () => {
    const f = findings.find((x) => x.package === "gunicorn");
    assert.ok(f, `gunicorn is among the findings: ${JSON.stringify(findings)}`);
    assert.deepEqual([f.id, f.installed, f.fixed, f.severity], ["CVE-2024-1135", "21.2.0", "22.0.0", "HIGH"]);
    assert.ok(f.aliases.includes("GHSA-w3h3-4rj7-4ph4"), `aliases: ${f.aliases}`);
  });

  it("stops a HIGH finding that has a fixed version, one line naming id, package, versions and image", () => {
    const v = decide("CentralErrorBus", IMAGE, findings, [], HIGH);
    assert.equal(v.pass, false);
    assert.deepEqual(v.lines, [`CentralErrorBus: CVE-2024-1135 (HIGH, GHSA-w3h3-4rj7-4ph4) in gunicorn 21.2.0, fixed in 22.0.0, image ${IMAGE}`]);
  });

  it("lets it through with an allowlist entry for its id or alias, for any or its own package", () => {
    for (const e of [entry({}), entry({ id: "GHSA-w3h3-4rj7-4ph4" }), entry({ package: "gunicorn" })]) {
      const v = decide("S", IMAGE, findings, [e], HIGH);
      assert.equal(v.pass, true, JSON.stringify(e));
      assert.deepEqual(v.allowed.map((a) => a.finding.id), ["CVE-2024-1135"]);
    }
  });

  it("still stops it when the entry names another advisory or another package", () => {
    assert.equal(decide("S", IMAGE, findings, [entry({ id: "CVE-2024-6827" })], HIGH).pass, false);
    assert.equal(decide("S", IMAGE, findings, [entry({ package: "uvicorn" })], HIGH).pass, false);
  });

  it("passes under a CRITICAL threshold, and a clean report", () => {
    assert.equal(decide("S", IMAGE, findings, [], { severity: "CRITICAL", failOnUnfixed: false }).pass, true);
    assert.equal(decide("S", IMAGE, parseTrivyReport(JSON.stringify({ SchemaVersion: 2, Results: [{ Target: "x", Vulnerabilities: null }] })), [], HIGH).pass, true);
  });

  it("stops an unfixed finding only when fail-on-unfixed is set, and counts an advisory once", () => {
    const unfixed = [...findings, ...findings].map((f) => ({ ...f, fixed: null }));
    assert.equal(decide("S", IMAGE, unfixed, [], HIGH).pass, true);
    const v = decide("S", IMAGE, unfixed, [], { severity: "HIGH", failOnUnfixed: true });
    assert.equal(v.pass, false);
    assert.equal(v.lines.length, 1);
    assert.match(v.lines[0], /in gunicorn 21\.2\.0, no fixed version yet, image /);
  });

  it("refuses output that is not a Trivy schema-2 report rather than passing it", () => {
    assert.throws(() => parseTrivyReport("FATAL db error"), /the scanner's output is not JSON/);
    assert.throws(() => parseTrivyReport(JSON.stringify({ Results: [] })), /not a Trivy JSON report/);
    assert.throws(() => parseTrivyReport(JSON.stringify({ SchemaVersion: 1, Results: [] })), /schema 1; this gate reads schema 2/);
  });
});

describe("SBOMs and reports", () => {
  const sbom = JSON.stringify({
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    components: [{ purl: "pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12" }, { purl: "pkg:pypi/uvicorn@0.54.0" }, { purl: "pkg:pypi/h11@0.16.0" }, { name: "no purl" }],
  });

  it("counts an SBOM's components by package type, and refuses what is not CycloneDX 1.5/1.6", () => {
    assert.deepEqual(summariseSbom(sbom), { specVersion: "1.6", components: 4, byType: { deb: 1, pypi: 2, none: 1 } });
    assert.throws(() => summariseSbom(JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.4", components: [] })), /spec "1\.4"; 1\.5 or 1\.6 is expected/);
    assert.throws(() => summariseSbom(JSON.stringify({ spdxVersion: "SPDX-2.3" })), /not CycloneDX/);
  });

  it("keeps an image's SBOM under the tag sha256-<hex>.sbom beside it", () => {
    assert.equal(sbomTag(`sha256:${"a".repeat(64)}`), `sha256-${"a".repeat(64)}.sbom`);
  });

  it("reports service, machine, stack, image, its digest, its inputs digest, the commit and the SBOM itself", () => {
    const body = reportBody({ service: "CentralErrorBus", machine: "local", stack: "e2e-supply", image: IMAGE, inputs: "a".repeat(64), commit: "f".repeat(40), sbom });
    assert.deepEqual(body, { service: "CentralErrorBus", machine: "local", stack: "e2e-supply", image: IMAGE, digest: `sha256:${"c".repeat(64)}`, inputs: "a".repeat(64), commit: "f".repeat(40), sbom: JSON.parse(sbom) });
  });

  it("are sent again for a new digest or an undelivered one, never for a new commit alone (a README commit, a shallow clone, a rebase)", async () => {
    const state = { url: "http://127.0.0.1:9100/sbom", service: "CentralErrorBus", machine: "local", stack: "s", image: IMAGE, inputs: "a".repeat(64), commit: "f".repeat(40) };
    const diff = (olds: object, news: object) => reportProvider.diff!("r", olds, news);
    assert.deepEqual(await diff({ ...state, delivered: true }, { ...state, commit: "e".repeat(40) }), { changes: false, replaces: [], deleteBeforeReplace: false });
    const other = IMAGE.replace(/@sha256:.*/, `@sha256:${"d".repeat(64)}`);
    assert.deepEqual(await diff({ ...state, delivered: true }, { ...state, image: other, inputs: "b".repeat(64) }), { changes: true, replaces: ["image"], deleteBeforeReplace: false });
    assert.deepEqual((await diff({ ...state, delivered: false }, state)).changes, true);
  });

  it("are received by the reference service: stored atomically, bad bodies refused without losing what is stored", () => {
    // The receiving side is Python (stdlib only): its own unittest suite, run here.
    const dir = path.join(REPO, "examples/reference-service");
    const r = run("python3", ["-m", "unittest", "discover", "-s", "tests", "-t", "."], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Ran [1-9]\d* tests?[\s\S]*OK/);
  });
});

describe("fleet sbom", () => {
  const fleet = (...args: string[]) => run(...fleetCommand("sbom", ...args), { cwd: REPO, env: { ...process.env, PATH: "/usr/bin:/bin" } });

  it("says in one line which option is missing or unknown, exit 2", () => {
    const missing = fleet("--stack", "local");
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr.trim(), "fleet: sbom: --service is required (a service name, like CentralErrorBus)");
    const unknown = fleet("--stack", "local", "--service", "X", "--format", "spdx");
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr.trim(), /^fleet: sbom: unknown option "--format"; allowed: --stack VALUE, --service VALUE, --out VALUE$/);
  });
});
