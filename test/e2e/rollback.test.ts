import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { changedSteps, checkout, diagnostics, engineEnv, FLEET_CACHE, get, imagesBuilt, must, run, Ran, stepOrder, TestStack, testStack } from "../support/engine";
import { jsonLines } from "../../review/preview";
import { writeResults } from "../support/results";
import { fleetCommand } from "../support/cli";
import { tempDir } from "../support/project";

/**
 * Rollback for real, in a namespace of its own (stack e2e-rollback, 127.0.0.4, registry path
 * 127.0.0.1:5000/e2e-rollback, its own state and Docker engine): up A, change one service's source
 * and up B, `fleet rollback --to 1`, `fleet history`, `fleet release`, and a rollback to a digest
 * the registry lost. Two services keep it short; the steps share one deployment, in order.
 */
describe("rollback from stack history, end to end", function () {
  const STACK = "e2e-rollback";
  const BIND = "127.0.0.4";
  const REGISTRY = `127.0.0.1:5000/${STACK}`;
  const CEB = "services/central-error-bus";
  const work = tempDir("fleet-rollback-", this);
  const state = path.join(work, "state");
  fs.mkdirSync(state);
  const env = engineEnv(state);
  let dir = "";
  let ts: TestStack;
  const results: Record<string, unknown> = {};
  const digests: { a: Record<string, string>; b: Record<string, string> } = { a: {}, b: {} };

  const fleet = (...args: string[]) => run(...fleetCommand(...args), { cwd: dir, env });
  const fail = (what: string, r: Ran) =>
    assert.fail(`${what} exited ${r.status}\n${(diagnostics(r.stdout) || r.stdout).split("\n").slice(-40).join("\n")}\n${r.stderr.split("\n").slice(-40).join("\n")}`);
  /** Runs a step that applies an update with `pulumi up --json` events on stdout, and records what it did. */
  const applied = (label: string, r: Ran) => {
    fs.writeFileSync(path.join(work, `${label}.out`), r.stdout + r.stderr);
    const steps = changedSteps(r.stdout);
    results[label] = { seconds: r.seconds, imagesBuilt: imagesBuilt(steps), changed: steps.length };
    if (r.status !== 0) fail(label, r);
    return steps;
  };
  const up = (label: string) => applied(label, ts.pulumi(dir, "up", "--yes", "--skip-preview", "--json"));
  const services = () => ts.output<Record<string, { image: string; digest: string; healthUrl: string; container: string }>>(dir, "services");
  const docker = (...args: string[]) => {
    const r = ts.docker(...args);
    if (r.status !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** Service -> ID of its running container (a canary is keyed apart: `<service> canary <name>`). */
  const containerIds = () => ts.containers();
  /** Canary containers the stack's engine started while `f` ran: the images it proved healthy. */
  const canariesDuring = <T>(f: () => T): [T, number] => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const result = f();
    const until = Math.ceil(Date.now() / 1000) + 1;
    const started = docker("events", "--since", String(since), "--until", String(until), "--filter", "type=container", "--filter", "event=start", "--filter", `label=dev.fleet.stack=${STACK}`, "--filter", "label=dev.fleet.role=canary", "--format", "{{.Actor.ID}}");
    return [result, started.split("\n").filter(Boolean).length];
  };
  const runningImage = (container: string) => docker("inspect", "-f", '{{index .Config.Labels "dev.fleet.image"}}', container);
  const stackFile = () => fs.readFileSync(path.join(dir, `Pulumi.${STACK}.yaml`), "utf8");
  const assertHealthy = async () => {
    for (const [name, s] of Object.entries(services())) {
      const res = await get(s.healthUrl);
      assert.deepEqual([res.status, JSON.parse(res.body)], [200, { status: "ok" }], `${name} at ${s.healthUrl}`);
    }
  };
  /** The digest a tag of the stack's registry path names now. */
  const tagDigest = (slug: string, tag: string) =>
    new Promise<string>((resolve, reject) => {
      const req = http.request(`http://127.0.0.1:5000/v2/${STACK}/${slug}/manifests/${tag}`, { method: "HEAD", agent: false, headers: { Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json" } }, (res) => {
        res.resume();
        resolve(res.statusCode === 200 ? String(res.headers["docker-content-digest"]) : `HTTP ${res.statusCode}`);
      });
      req.on("error", reject);
      req.end();
    });

  before(function () {
    dir = checkout(path.join(work, "a"), "0022");
    must("bash", ["scripts/infra.sh"], { cwd: dir, env, timeoutSeconds: 1800 });
    fs.cpSync(path.join(dir, "examples/reference-service"), path.join(dir, CEB), { recursive: true });
    // A Docker engine of its own: containers, network and volumes never meet another stack's.
    ts = testStack(dir, env, { stack: STACK, engine: "rollback", bindAddress: BIND, registry: REGISTRY, config: { services: { names: ["CentralErrorBus", "ServiceRegistry"] }, sources: { CentralErrorBus: CEB } } });
    ts.init(dir);
    must("git", ["add", "-A", "."], { cwd: dir });
    must("git", ["-c", "user.name=fleet-test", "-c", "user.email=test@fleet.invalid", "commit", "-qm", "stack e2e-rollback: CentralErrorBus from a folder of its own"], { cwd: dir });
  });

  after(function () {
    if (ts) {
      const destroyed = ts.pulumi(dir, "destroy", "--yes");
      if (destroyed.status !== 0) console.error(`pulumi destroy: ${destroyed.stderr.slice(-2000)}`);
      const volumes = ts.docker("volume", "ls", "-q").stdout.split("\n").filter(Boolean);
      if (volumes.length) ts.docker("volume", "rm", ...volumes);
      run("bash", ["scripts/engine.sh", "down", "docker", "rollback"], { cwd: dir, env });
    }
    writeResults("e2e-rollback", this.test!.parent!, results);
  });

  it("update A: brings both services up", async () => {
    up("up-a");
    for (const [name, s] of Object.entries(services())) digests.a[name] = s.digest;
    assert.deepEqual(Object.keys(digests.a).sort(), ["CentralErrorBus", "ServiceRegistry"]);
    await assertHealthy();
  });

  it("update B: a committed change to CentralErrorBus's source builds and runs its image alone, and tags A's as :prev", async () => {
    fs.appendFileSync(path.join(dir, CEB, "app/__init__.py"), "\n# update B\n");
    must("git", ["-c", "user.name=fleet-test", "-c", "user.email=test@fleet.invalid", "commit", "-qam", "CentralErrorBus: update B"], { cwd: dir });
    const [steps, canaries] = canariesDuring(() => up("up-b"));
    assert.equal(imagesBuilt(steps), 1);
    assert.equal(canaries, 1, "the new image was proved healthy before its container");
    for (const [name, s] of Object.entries(services())) digests.b[name] = s.digest;
    assert.notEqual(digests.b.CentralErrorBus, digests.a.CentralErrorBus);
    assert.equal(digests.b.ServiceRegistry, digests.a.ServiceRegistry);
    assert.equal(await tagDigest("central-error-bus", "prev"), digests.a.CentralErrorBus);
    // The new image's SBOM is made once its container answers, not while the container starts.
    const order = stepOrder(fs.readFileSync(path.join(work, "up-b.out"), "utf8"));
    const step = (name: string) => [...order].find(([urn]) => urn.endsWith(`::${name}`))?.[1] ?? { began: -1, ended: -1 };
    const [sbom, started] = [step("fleet-central-error-bus-sbom"), step("fleet-central-error-bus-started")];
    assert.ok(started.ended >= 0 && sbom.began > started.ended, `the SBOM's step began at event ${sbom.began}, the new container answered at event ${started.ended}`);
    await assertHealthy();
  });

  it("rollback --to 1 puts CentralErrorBus back on A's digest without building, and keeps the other container", async () => {
    const before = containerIds();
    const [r, canaries] = canariesDuring(() => fleet("rollback", "--stack", STACK, "--to", "1", "--yes", "--", "--json", "--skip-preview"));
    const steps = applied("rollback", r);
    assert.equal(canaries, 0, "A's image was proved healthy with these settings in update A: no canary");
    assert.match(r.stdout, new RegExp(`^CentralErrorBus\\s+${digests.b.CentralErrorBus}\\s+${digests.a.CentralErrorBus}$`, "m"), "it shows service, from and to");
    assert.match(r.stdout, /Hardware env not rolled back/);
    assert.equal(imagesBuilt(steps), 0, "no image built");
    const now = services();
    assert.equal(now.CentralErrorBus.digest, digests.a.CentralErrorBus);
    assert.equal(runningImage(now.CentralErrorBus.container), now.CentralErrorBus.image, "the running container runs A's image");
    const after = containerIds();
    assert.notEqual(after.CentralErrorBus, before.CentralErrorBus, "CentralErrorBus has a new container");
    assert.equal(after.ServiceRegistry, before.ServiceRegistry, "ServiceRegistry kept its container");
    assert.equal(await tagDigest("central-error-bus", "prev"), digests.b.CentralErrorBus, ":prev names the digest that ran before");
    await assertHealthy();
    // A partial update: the program registered what runs CentralErrorBus, and nothing of ServiceRegistry (whose
    // digest stays) or of a build. (What it registered, from the SDK's debug events: a targeted update lists
    // what it keeps as it was as "same" steps too.)
    const registered = jsonLines(r.stdout)
      .map((e) => /^Registering resource: t=([^,]+), name=([^,]+),/.exec(e.diagnosticEvent?.message ?? ""))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${m[1]} ${m[2]}`);
    assert.ok(registered.includes("docker:index/container:Container fleet-central-error-bus-container"), registered.join("\n"));
    assert.deepEqual(registered.filter((x) => /service-registry|docker-build:index:Image|fleet:images:/.test(x)), [], "nothing else registered");
    // ...and left the state as the whole program makes it: a preview of the whole program changes nothing.
    const preview = ts.pulumi(dir, "preview", "--json");
    if (preview.status !== 0) fail("pulumi preview", preview);
    assert.deepEqual(changedSteps(preview.stdout).map((st) => `${st.op} ${st.urn}`), []);
  });

  it("history shows the rollback as the newest update, with each update's digests", () => {
    const r = fleet("history", "--stack", STACK, "--json");
    if (r.status !== 0) fail("fleet history", r);
    const rows = JSON.parse(r.stdout) as Array<{ update: number; kind: string; result: string; message: string; commit: string; services: Record<string, string> }>;
    assert.deepEqual(rows.map((u) => [u.update, u.kind, u.result]), [[1, "update", "succeeded"], [2, "update", "succeeded"], [3, "update", "succeeded"]]);
    assert.deepEqual(rows[0].services, digests.a);
    assert.deepEqual(rows[1].services, digests.b);
    assert.deepEqual(rows[2].services, digests.a);
    assert.equal(rows[2].message, "rollback to update 1");
    assert.match(rows[1].commit, /^[0-9a-f]{40}$/);
    const text = fleet("history", "--stack", STACK);
    assert.match(text.stdout, new RegExp(`^\\s+\\* CentralErrorBus\\s+${digests.a.CentralErrorBus}$`, "m"), "a changed digest is marked");
  });

  it("release goes back to B's digest without building", async () => {
    const [r, canaries] = canariesDuring(() => fleet("release", "--stack", STACK, "--yes", "--", "--json", "--skip-preview"));
    const steps = applied("release", r);
    assert.equal(imagesBuilt(steps), 0, "no image built");
    assert.equal(canaries, 0, "B's image was proved in update B");
    assert.deepEqual(Object.fromEntries(Object.entries(services()).map(([n, s]) => [n, s.digest])), digests.b);
    assert.doesNotMatch(stackFile(), /fleet:images/);
    await assertHealthy();
  });

  it("refuses a rollback to a digest the registry no longer has, and changes nothing", () => {
    // The registry refuses deletes over its API; a lost manifest is its revision link gone on disk.
    const hex = digests.a.CentralErrorBus.slice("sha256:".length);
    const revision = path.join(FLEET_CACHE, "registry/docker/registry/v2/repositories", STACK, "central-error-bus/_manifests/revisions/sha256", hex);
    assert.ok(fs.existsSync(revision), revision);
    fs.rmSync(revision, { recursive: true });
    const file = stackFile();
    const ids = containerIds();
    const updates = JSON.parse(fleet("history", "--stack", STACK, "--json").stdout).length;
    const r = fleet("rollback", "--stack", STACK, "--to", "1", "--yes");
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`^fleet: rollback: nothing was changed, because CentralErrorBus: ${REGISTRY.replace(/\./g, "\\.")}/central-error-bus@${digests.a.CentralErrorBus} is no longer in the registry$`, "m"));
    assert.equal(stackFile(), file, "the stack file is as it was");
    assert.deepEqual(containerIds(), ids, "every container kept its ID");
    assert.equal(JSON.parse(fleet("history", "--stack", STACK, "--json").stdout).length, updates, "no update ran");
  });
});
