import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { watchHealth } from "../../bench/outage";
import { buildCatalog } from "../../catalog";
import { slugOf } from "../../stack";
import { changedSteps, checkout, diagnostics, engineEnv, get, imagesBuilt, must, run, TestStack, testStack } from "../support/engine";
import { writeResults } from "../support/results";
import { tempDir } from "../support/project";

/**
 * The main job for real: `pulumi up` of the local stack's program and settings with the real
 * engine, providers, BuildKit, registry and Docker engine. The steps run in order and share one
 * backend, as a user's would. The suite runs as stack `e2e` on a Docker engine of its own,
 * published on 127.0.0.2, so a user's `local` fleet on this machine is never touched.
 */
describe("pulumi up on the local stack, end to end", function () {
  const STACK = "e2e";
  const work = tempDir("fleet-e2e-", this);
  const env = engineEnv(path.join(work, "state"));
  fs.mkdirSync(path.join(work, "state"));
  const results: Record<string, unknown> = {};
  let a = "";
  let b = "";
  let ts: TestStack;
  const CEB = "services/central-error-bus";
  /** The name of the container CentralErrorBus runs now (its name changes with each replacement). */
  const cebContainer = () => services(a).CentralErrorBus.container;

  const pulumi = (cwd: string, ...args: string[]) => ts.pulumi(cwd, ...args);
  const docker = (...args: string[]) => {
    const r = ts.docker(...args);
    if (r.status !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return r;
  };
  const up = (cwd: string, label: string) => {
    const r = pulumi(cwd, "up", "--yes", "--skip-preview", "--json");
    fs.writeFileSync(path.join(work, `${label}.events.json`), r.stdout);
    const steps = changedSteps(r.stdout);
    results[label] = { seconds: r.seconds, imagesBuilt: imagesBuilt(steps), changed: steps.length };
    return { ...r, steps, diagnostics: diagnostics(r.stdout) };
  };
  const containerIds = () => ts.containers();
  const services = (cwd: string) => ts.output<Record<string, { healthUrl: string; image: string; container: string }>>(cwd, "services");
  const assertHealthy = async (cwd: string) => {
    const all = services(cwd);
    assert.equal(Object.keys(all).length, 10, "ten services on the local stack");
    for (const [name, s] of Object.entries(all)) {
      const res = await get(s.healthUrl);
      assert.deepEqual([res.status, JSON.parse(res.body)], [200, { status: "ok" }], `${name} at ${s.healthUrl}`);
    }
  };
  const fail = (what: string, r: { status: number; stdout: string; stderr: string }) =>
    assert.fail(`${what} exited ${r.status}\n${(diagnostics(r.stdout) || r.stdout).split("\n").slice(-40).join("\n")}\n${r.stderr.split("\n").slice(-40).join("\n")}`);

  before(function () {
    // Checkout A, plus a commit that gives CentralErrorBus a source folder of its own, so that one
    // service's source can change alone. Checkout B is a second clone of that commit under another umask.
    a = checkout(path.join(work, "a"), "0022");
    must("bash", ["scripts/infra.sh"], { cwd: a, env, timeoutSeconds: 1800 });
    ts = testStack(a, env, { stack: STACK, engine: STACK, bindAddress: "127.0.0.2", config: { sources: { CentralErrorBus: CEB }, workers: { CentralErrorBus: 2 } } });
    // Stack init first: it may write the stack's encryption salt, which B must share.
    ts.init(a);
    fs.cpSync(path.join(a, "examples/reference-service"), path.join(a, CEB), { recursive: true });
    must("git", ["add", "-A", "."], { cwd: a });
    must("git", ["-c", "user.name=fleet-test", "-c", "user.email=test@fleet.invalid", "commit", "-qm", "CentralErrorBus from a folder of its own"], { cwd: a });
    b = checkout(path.join(work, "b"), "0002", a);
    must("bash", ["scripts/infra.sh"], { cwd: b, env, timeoutSeconds: 1800 });
  });

  after(function () {
    if (ts) run("bash", ["scripts/engine.sh", "down", "docker", STACK], { cwd: a, env });
    writeResults("e2e-local", this.test!.parent!, results);
  });

  it("brings every service up from nothing, answering {\"status\":\"ok\"} on its health port", async () => {
    const r = up(a, "cold-up");
    if (r.status !== 0) fail("pulumi up", r);
    assert.equal(imagesBuilt(r.steps), 15, "5 families and 10 service images");
    await assertHealthy(a);
    // The local profile's PIDs limits: its CPU class for most services, its GPU class for the torch families'.
    const limits = JSON.parse(fs.readFileSync(path.join(a, "profiles/local.json"), "utf8")).limits;
    const catalog = buildCatalog();
    const running = services(a);
    for (const s of catalog.services) {
      const name = running[s.name].container;
      assert.match(name, new RegExp(`^fleet-${STACK}-${slugOf(s.name)}-[0-9a-f]{8}$`), "named from the stack, the service and its settings");
      const user = docker("inspect", "-f", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.PidsLimit}}", name).stdout.trim();
      assert.equal(user, `10001:10001 true ${(s.gpu ? limits.gpu : limits.cpu).pidsLimit}`, `${name}: user, read-only root, PIDs limit`);
    }
    // The up waited for each service's own probe; Docker's health check, which goes on watching,
    // agrees by its first probe (one interval after the start).
    const deadline = Date.now() + 30_000;
    const states = () => catalog.services.map((s) => docker("inspect", "-f", "{{.State.Health.Status}}", running[s.name].container).stdout.trim());
    while (states().some((h) => h !== "healthy") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(states(), catalog.services.map(() => "healthy"), "Docker's own health check");
    // State goes to the named volume at /data, the one writable place besides /tmp.
    docker("exec", cebContainer(), "python3", "-c", "open('/data/probe', 'w').write('ok')");
    assert.notEqual(ts.docker("exec", cebContainer(), "python3", "-c", "open('/opt/probe', 'w')").status, 0, "the root filesystem is read-only");
  });

  it("keeps a worker that does not answer its supervisor for 8 s (a model loading, a loaded machine) instead of killing it", async () => {
    const CEB_CONTAINER = cebContainer();
    // The service's uvicorn workers: processes spawned by multiprocessing, not this probe itself.
    const workers = () =>
      docker("exec", CEB_CONTAINER, "python3", "-c", "import os\nfor p in os.listdir('/proc'):\n  try:\n    c = open(f'/proc/{p}/cmdline', 'rb').read()\n  except OSError:\n    continue\n  if p.isdigit() and b'--multiprocessing-fork' in c and p != str(os.getpid()): print(p)")
        .stdout.trim()
        .split("\n")
        .sort();
    const signal = (pid: string, sig: string) => docker("exec", CEB_CONTAINER, "python3", "-c", `import os, signal; os.kill(${pid}, signal.${sig})`);
    const before = workers();
    assert.equal(before.length, 2, `the two workers fleet:workers gives it: ${before.join(", ")}`);
    signal(before[0], "SIGSTOP");
    await new Promise((r) => setTimeout(r, 8000));
    signal(before[0], "SIGCONT");
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(workers(), before, "the same two workers");
    const logs = docker("logs", CEB_CONTAINER);
    assert.doesNotMatch(logs.stdout + logs.stderr, /Child process \[\d+\] died/);
    await assertHealthy(a);
  });

  it("changes nothing on a second up from another checkout of the same commit with another umask", async () => {
    const before = containerIds();
    const preview = pulumi(b, "preview", "--expect-no-changes");
    if (preview.status !== 0) fail("pulumi preview --expect-no-changes in the second checkout", preview);
    const r = up(b, "noop-up");
    if (r.status !== 0) fail("pulumi up", r);
    assert.equal(imagesBuilt(r.steps), 0, "no image rebuilt");
    assert.deepEqual(r.steps, [], "no resource changed");
    assert.deepEqual(containerIds(), before, "every container kept its ID");
  });

  it("changes exactly one service's image and container when only its source changes", async () => {
    const before = containerIds();
    fs.appendFileSync(path.join(b, CEB, "app/__init__.py"), "\n# a change to CentralErrorBus alone\n");
    const preview = pulumi(b, "preview", "--json");
    if (preview.status !== 0) fail("pulumi preview", preview);
    const steps = changedSteps(preview.stdout);
    assert.ok(steps.length > 0, "the preview shows the change");
    for (const s of steps) assert.match(s.urn, /central-error-bus/, `only CentralErrorBus changes, but ${s.op} ${s.urn}`);
    assert.ok(steps.some((s) => s.type === "docker-build:index:Image"), "its image is rebuilt");
    assert.ok(steps.some((s) => s.type === "docker:index/container:Container"), "its container is replaced");
    const since = Math.floor(Date.now() / 1000);
    // Its health port, through the stack's ports, every 50 ms while the up runs.
    const watched = watchHealth(services(b).CentralErrorBus.healthUrl, path.join(work, "one-service-up.outage.json"));
    const r = up(b, "one-service-up");
    const outage = watched();
    if (r.status !== 0) fail("pulumi up", r);
    assert.ok(outage.polls > 10, `polled through the up: ${JSON.stringify(outage)}`);
    assert.equal(outage.failed, 0, `the service answered every poll through its replacement: ${JSON.stringify(outage)}`);
    assert.equal(imagesBuilt(r.steps), 1);
    const after = containerIds();
    for (const [name, id] of Object.entries(before)) {
      if (name === "CentralErrorBus") assert.notEqual(after[name], id, "CentralErrorBus has a new container");
      else assert.equal(after[name], id, `${name} kept its container`);
    }
    // The handover, as the engine saw it: the new container was created and started while the old
    // one ran, the old one stopped only after that (once the new one answered), and was removed last.
    const events = docker("events", "--since", String(since), "--until", String(Math.ceil(Date.now() / 1000) + 1), "--filter", "type=container", "--filter", `label=dev.fleet.stack=${STACK}`, "--filter", "label=dev.fleet.service=CentralErrorBus", "--format", '{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "dev.fleet.role"}}')
      .stdout.split("\n")
      .filter((l) => l.trim())
      .map((l) => l.trim().split(" "))
      .filter(([action, id, role]) => !role && (id.startsWith(after.CentralErrorBus) || id.startsWith(before.CentralErrorBus)) && ["create", "start", "die", "destroy"].includes(action))
      .map(([action, id]) => `${action} ${id.startsWith(after.CentralErrorBus) ? "new" : "old"}`);
    assert.deepEqual(events, ["create new", "start new", "die old", "destroy old"], "create and start next to the running one, then stop it, then remove it");
    await assertHealthy(b);
  });

  it("fails an up whose image never gets healthy, and leaves the running service running", async () => {
    const before = containerIds().CentralErrorBus;
    const main = path.join(b, CEB, "app/__main__.py");
    const good = fs.readFileSync(main, "utf8");
    fs.writeFileSync(main, "import time\n\n# Never listens: a build that passes but a service that never gets healthy.\ntime.sleep(10**6)\n");
    const r = up(b, "broken-up");
    assert.notEqual(r.status, 0, "the update fails");
    assert.match(r.diagnostics + r.stderr, /CentralErrorBus: image 127\.0\.0\.1:5000\/e2e\/central-error-bus@sha256:[0-9a-f]{64} did not report healthy on \/health within \d+s; the running container was left as it was/);
    assert.equal(containerIds().CentralErrorBus, before, "the running container was not touched");
    assert.equal(docker("ps", "-aq", "--filter", `label=dev.fleet.stack=${STACK}`, "--filter", "label=dev.fleet.role=canary").stdout.trim(), "", "the failed canary was removed");
    assert.deepEqual(JSON.parse((await get(services(b).CentralErrorBus.healthUrl)).body), { status: "ok" });

    fs.writeFileSync(main, good);
    const fixed = up(b, "fixed-up");
    if (fixed.status !== 0) fail("pulumi up after the fix", fixed);
    await assertHealthy(b);
  });

  it("rejects a malformed stack file in preview with the same message as render", () => {
    const file = path.join(b, `Pulumi.${STACK}.yaml`);
    const good = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, good.replace("fleet:machine: local", "fleet:machine: pc3"));
    try {
      const rendered = run("npx", ["ts-node", "--transpile-only", "scripts/render.ts", STACK], { cwd: b, env });
      assert.equal(rendered.status, 1);
      const message = rendered.stderr.trim();
      assert.match(message, /Pulumi\.e2e\.yaml: fleet:machine: must be one of mainpc, pc2, local; got "pc3"/);
      const preview = pulumi(b, "preview");
      assert.notEqual(preview.status, 0);
      for (const line of message.split("\n")) assert.ok((preview.stdout + preview.stderr).includes(line.trim()), `preview shows: ${line}\n--- it printed:\n${preview.stdout}${preview.stderr}`);
      assert.doesNotMatch(preview.stdout + preview.stderr, /at .*\.(ts|js):\d+:\d+/, "no stack trace");
    } finally {
      fs.writeFileSync(file, good);
    }
  });

  it("destroys every container, the network and the pulled images, keeps the data volumes and every pushed digest", () => {
    const images = Object.values(services(b)).map((s) => s.image);
    const r = pulumi(b, "destroy", "--yes");
    if (r.status !== 0) fail("pulumi destroy", r);
    const q = (...args: string[]) => docker(...args).stdout.trim();
    assert.equal(q("ps", "-a", "--filter", `label=dev.fleet.stack=${STACK}`, "--format", "{{.Names}}"), "");
    assert.equal(q("network", "ls", "--filter", `name=^fleet-${STACK}$`, "--format", "{{.Name}}"), "");
    for (const image of images) assert.notEqual(ts.docker("image", "inspect", image).status, 0, `${image} is gone from the engine`);
    // retainOnDelete on every image and a registry that refuses deletes: rollback can still pull them.
    for (const image of images) must("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${image}`], { cwd: work, env });
    const volumes = q("volume", "ls", "--filter", `name=fleet-${STACK}-`, "--format", "{{.Name}}").split("\n").filter(Boolean);
    assert.equal(volumes.length, 10, `ten data volumes survive: ${volumes.join(", ")}`);
    docker("volume", "rm", ...volumes);
  });
});
