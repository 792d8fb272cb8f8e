import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Registry } from "../../registry";
import { summariseSbom } from "../../supply";
import { checkout, diagnostics, engineEnv, get, must, pulumi, run, testStack, TestStack } from "../support/engine";
import { writeResults } from "../support/results";
import { tempDir } from "../support/project";

/**
 * The supply chain for real: syft, Trivy, the registry, BuildKit, the Docker engine and the Pulumi
 * engine, on a stack of its own (e2e-supply: 127.0.0.6, registry path 127.0.0.1:5000/e2e-supply).
 * Trivy scans with a database built here from a real advisory (GHSA-w3h3-4rj7-4ph4, gunicorn),
 * because its public one cannot be downloaded on this machine. One deployment serves every step.
 */
describe("supply chain: an SBOM and a vulnerability gate for every digest, reported to the ObservabilityCenter", function () {
  const STACK = "e2e-supply";
  const BIND = "127.0.0.6";
  const CEB = "services/central-error-bus";
  const work = tempDir("fleet-supply-", this);
  const state = path.join(work, "state");
  fs.mkdirSync(state);
  let env = engineEnv(state);
  let dir = "";
  let engine = false;
  let ts: TestStack;
  const results: Record<string, number> = {};

  const onStack = (...args: string[]) => pulumi([...args, "--stack", STACK], { cwd: dir, env });
  const up = (label: string) => {
    const r = onStack("up", "--yes", "--skip-preview", "--json");
    fs.writeFileSync(path.join(work, `${label}.events.json`), r.stdout);
    results[label] = r.seconds;
    return { ...r, diagnostics: diagnostics(r.stdout) };
  };
  // Only the engine's error diagnostics: its debug lines would bury the reason.
  const errors = (json: string) =>
    json
      .split("\n")
      .filter((l) => l.includes('"diagnosticEvent"') && l.includes('"severity":"error"'))
      .map((l) => JSON.parse(l).diagnosticEvent.message as string)
      .join("\n");
  const fail = (what: string, r: { status: number; stdout: string; stderr: string }) =>
    assert.fail(`${what} exited ${r.status}\n${errors(r.stdout).split("\n").slice(-40).join("\n")}\n${r.stderr.split("\n").slice(-20).join("\n")}`);
  const services = () => ts.output<Record<string, { image: string; digest: string; container: string; healthUrl: string; sbom: string; reported: string }>>(dir, "services");
  const docker = (...args: string[]) => must("docker", args, { cwd: work, env }).stdout.trim();
  const containerId = (name: string) => docker("inspect", "-f", "{{.Id}}", name);
  const inventory = async () => {
    const r = await get(`http://${BIND}:9100/inventory`);
    assert.equal(r.status, 200, r.body);
    return (JSON.parse(r.body) as { services: { service: string; stack: string; digest: string; inputs: string; commit: string; components: number; reportedAt: string }[] }).services.filter((s) => s.stack === STACK);
  };
  const allow = (expires: string) =>
    fs.writeFileSync(
      path.join(dir, "security/allowlist.yaml"),
      `entries:\n  - id: GHSA-w3h3-4rj7-4ph4\n    package: gunicorn\n    reason: the e2e test's deliberately vulnerable service never starts gunicorn\n    expires: "${expires}"\n`,
    );

  before(function () {
    dir = checkout(path.join(work, "checkout"), "0022");
    must("bash", ["scripts/infra.sh"], { cwd: dir, env, timeoutSeconds: 1800 });
    // A Docker engine of its own, emptied first: the containers of this stack never meet anyone else's.
    ts = testStack(dir, env, { stack: STACK, engine: "supply", bindAddress: BIND, config: { scanDbDir: ".fleet/trivy-test" } });
    engine = true;
    env = { ...env, DOCKER_HOST: ts.dockerHost };
    const tools = must("bash", ["scripts/supply-tools.sh"], { cwd: dir, env, timeoutSeconds: 3600 });
    results.toolsSeconds = tools.seconds;
    must("bash", ["scripts/scan-test-db.sh", path.join(dir, ".fleet/trivy-test")], { cwd: dir, env, timeoutSeconds: 3600 });
    ts.init(dir);
  });

  after(function () {
    if (dir) onStack("destroy", "--yes");
    if (engine) run("bash", ["scripts/engine.sh", "down", "docker", "supply"], { cwd: dir, env });
    writeResults("e2e-supply", this.test!.parent!, results);
  });

  it("gives every service digest an SBOM with OS and pip packages, and the ObservabilityCenter lists them all", async () => {
    const r = up("up");
    if (r.status !== 0) fail("pulumi up", r);
    const all = services();
    assert.equal(Object.keys(all).length, 10);
    for (const [name, s] of Object.entries(all)) {
      const kept = await new Registry("127.0.0.1:5000", { plainHttp: true }).getSbom(s.image);
      assert.ok(kept, `${name}: the registry keeps an SBOM beside ${s.image}`);
      assert.equal(kept.artifact, s.sbom, `${name}: the stack output names it`);
      const summary = summariseSbom(kept.sbom);
      assert.ok((summary.byType.deb ?? 0) > 50, `${name}: Debian packages: ${JSON.stringify(summary.byType)}`);
      assert.ok((summary.byType.pypi ?? 0) > 0, `${name}: Python packages: ${JSON.stringify(summary.byType)}`);
      assert.match(kept.sbom, /"purl":"pkg:pypi\/uvicorn@/);
      assert.equal(s.reported, "delivered", name);
    }
    const listed = await inventory();
    assert.deepEqual(
      Object.fromEntries(listed.map((l) => [l.service, l.digest])),
      Object.fromEntries(Object.entries(all).map(([name, s]) => [name, s.digest])),
      "GET /inventory shows the digests that pulumi stack output shows",
    );
    for (const l of listed) {
      assert.match(l.inputs, /^[0-9a-f]{64}$/, l.service);
      assert.match(l.commit, /^[0-9a-f]{40}$/, l.service);
      assert.ok(l.components > 50, `${l.service}: ${l.components} components`);
    }
    const out = path.join(work, "ceb.cdx.json");
    must("npm", ["run", "-s", "fleet", "--", "sbom", "--stack", STACK, "--service", "CentralErrorBus", "--out", out], { cwd: dir, env });
    assert.equal(summariseSbom(fs.readFileSync(out, "utf8")).components > 50, true);
  });

  it("fails the up for a service that hash-locks a release with a HIGH advisory, naming it, and leaves the running service running", async () => {
    const before = containerId(services().CentralErrorBus.container);
    fs.cpSync(path.join(dir, "examples/reference-service"), path.join(dir, CEB), { recursive: true });
    fs.appendFileSync(path.join(dir, CEB, "requirements.lock"), fs.readFileSync(path.join(dir, "test/fixtures/supply/vulnerable.lock"), "utf8"));
    const stackFile = path.join(dir, `Pulumi.${STACK}.yaml`);
    fs.writeFileSync(stackFile, fs.readFileSync(stackFile, "utf8").replace(/^config:\n/m, `config:\n  fleet:sources: { CentralErrorBus: ${CEB} }\n`));
    const r = up("vulnerable-up");
    assert.notEqual(r.status, 0, "the update fails");
    assert.match(r.diagnostics + r.stderr, /CentralErrorBus: CVE-2024-1135 \(HIGH, GHSA-w3h3-4rj7-4ph4\) in gunicorn 21\.2\.0, fixed in 22\.0\.0, image 127\.0\.0\.1:5000\/e2e-supply\/central-error-bus@sha256:[0-9a-f]{64}/);
    assert.equal(containerId(services().CentralErrorBus.container), before, "the running container was not touched");
    assert.deepEqual(JSON.parse((await get(services().CentralErrorBus.healthUrl)).body), { status: "ok" });
  });

  it("lets the finding through with an allowlist entry, and reports the new digest", async () => {
    const old = services().CentralErrorBus.digest;
    allow("2099-12-31");
    const r = up("allowed-up");
    if (r.status !== 0) fail("pulumi up with an allowlist entry", r);
    const now = services().CentralErrorBus;
    assert.notEqual(now.digest, old, "CentralErrorBus runs the new digest");
    assert.ok(await new Registry("127.0.0.1:5000", { plainHttp: true }).getSbom(now.image), "the new digest has its SBOM");
    assert.match((await new Registry("127.0.0.1:5000", { plainHttp: true }).getSbom(now.image))!.sbom, /"purl":"pkg:pypi\/gunicorn@21\.2\.0"/);
    assert.equal((await inventory()).find((l) => l.service === "CentralErrorBus")?.digest, now.digest);
  });

  it("fails again once the entry has expired, naming the file, the entry and the date", () => {
    allow("2020-01-01");
    const r = up("expired-up");
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /security\/allowlist\.yaml: entries\[0\] \(GHSA-w3h3-4rj7-4ph4 in gunicorn\): expired on 2020-01-01/);
  });
});
