import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { changedSteps, checkout, diagnostics, engineEnv, get, imagesBuilt, must, mustPulumi, run, TestStack, testStack } from "../support/engine";
import { writeResults } from "../support/results";
import { cisSection5, CisResult, DELIBERATE, Inspected } from "../support/cis";
import { fleetCommand } from "../support/cli";
import { tempDir } from "../support/project";

/**
 * The fleet under faults, on the real engine: a reboot of the Docker engine (clean and kill -9), an
 * update killed half way, a new image that fails only with the container's real settings, the
 * registry and the builder down, pins and retention of digests. The suite runs stack `faults` on
 * an engine, registry and BuildKit of its own (scripts/engine.sh), published on 127.0.0.3, so it
 * can stop and kill them without touching anything a user runs.
 */
describe("faults: the fleet survives, end to end", function () {
  const STACK = "faults";
  const REGISTRY_PORT = "5003";
  const SERVICES = ["CentralErrorBus", "SelfHealingSupervisor", "UnifiedObservabilityCenter"];
  const CEB = "services/ceb";
  const work = tempDir("fleet-faults-", this);
  const env = engineEnv(path.join(work, "state"));
  fs.mkdirSync(path.join(work, "state"));
  const results: Record<string, unknown> = {};
  let dir = "";
  let ts: TestStack;
  let registry = "";

  const engine = (action: string, kind: string, ...rest: string[]) => must("bash", ["scripts/engine.sh", action, kind, STACK, ...rest], { cwd: dir, env }).stdout.trim();
  const docker = (...args: string[]) => {
    const r = ts.docker(...args);
    if (r.status !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const up = (label: string) => {
    const r = ts.pulumi(dir, "up", "--yes", "--skip-preview", "--json");
    const steps = changedSteps(r.stdout);
    results[label] = { seconds: r.seconds, imagesBuilt: imagesBuilt(steps), changed: steps.length };
    return { ...r, steps, diagnostics: diagnostics(r.stdout) };
  };
  const mustUp = (label: string) => {
    const r = up(label);
    if (r.status !== 0) assert.fail(`pulumi up (${label}) exited ${r.status}\n${(r.diagnostics || r.stdout).split("\n").slice(-40).join("\n")}\n${r.stderr.split("\n").slice(-20).join("\n")}`);
    return r;
  };
  /** Service -> container ID of every container of the stack, stopped ones and canaries included. */
  const containers = () => ts.containers({ all: true });
  const outputs = () => ts.output<Record<string, { healthUrl: string; image: string; container: string; ports: { service: number; health: number } }>>(dir, "services");
  const healthy = async () => {
    for (const [name, s] of Object.entries(outputs())) {
      const res = await get(s.healthUrl);
      assert.deepEqual([res.status, JSON.parse(res.body)], [200, { status: "ok" }], `${name} at ${s.healthUrl}`);
    }
  };
  /** Waits until every container of the stack (every service's and the stack's ports) reports healthy; returns the seconds it took. */
  const waitHealthy = async (timeoutSeconds: number) => {
    const start = Date.now();
    for (;;) {
      const states = Object.values(containers()).map((id) => docker("inspect", "-f", "{{.State.Health.Status}}", id));
      if (states.length === SERVICES.length + 1 && states.every((s) => s === "healthy")) return (Date.now() - start) / 1000;
      if (Date.now() - start > timeoutSeconds * 1000) assert.fail(`not every service healthy within ${timeoutSeconds}s: ${states.join(", ")}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const registryHas = (ref: string) => run("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`], { cwd: dir, env }).status === 0;

  before(function () {
    dir = checkout(path.join(work, "fleet"), "0022");
    must("bash", ["scripts/infra.sh"], { cwd: dir, env, timeoutSeconds: 1800 });
    registry = engine("up", "registry", REGISTRY_PORT);
    engine("up", "buildkit");
    // The base image, copied into the suite's own registry (same digest).
    const base = fs.readFileSync(path.join(dir, ".fleet/base-image.ref"), "utf8").trim();
    must("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${base}`, `docker://${registry}/base/debian-bookworm:base`], { cwd: dir, env });
    const digest = must("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://${registry}/base/debian-bookworm:base`], { cwd: dir, env }).stdout.trim();
    fs.cpSync(path.join(dir, "examples/reference-service"), path.join(dir, CEB), { recursive: true });
    ts = testStack(dir, env, {
      stack: STACK,
      engine: STACK,
      bindAddress: "127.0.0.3",
      registry: `${registry}/${STACK}`,
      config: { builder: STACK, baseImageFile: null, baseImage: `${registry}/base/debian-bookworm@${digest}`, services: { names: SERVICES }, sources: { CentralErrorBus: CEB }, healthTimeoutSeconds: "60" },
    });
    must("git", ["add", "-A", "."], { cwd: dir });
    must("git", ["-c", "user.name=fleet-test", "-c", "user.email=test@fleet.invalid", "commit", "-qm", "faults stack"], { cwd: dir });
    ts.init(dir);
    mustUp("cold-up");
  });

  after(function () {
    if (ts) ts.pulumi(dir, "destroy", "--yes");
    for (const kind of ["docker", "buildkit", "registry"]) run("bash", ["scripts/engine.sh", "down", kind, STACK], { cwd: dir, env });
    // The pulumi killed half way leaves its provider plugins behind (they run in process groups of
    // their own, as they do for a user whose CLI is killed): end those of this checkout.
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      try {
        const plugin = /pulumi-resource-|dynamic-provider/.test(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8"));
        if (plugin && fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone meanwhile, or not ours to read
      }
    }
    writeResults("faults", this.test!.parent!, results);
  });

  it("runs every container, the stack's ports too, with a PIDs limit and passes the CIS section 5 checks", async () => {
    await healthy();
    const info = JSON.parse(docker("info", "--format", "{{json .}}"));
    const verdicts: Record<string, CisResult[]> = {};
    const services = outputs();
    // The services publish no port of their own; the stack's ports publish each service's two.
    const published = Object.values(services).flatMap((s) => [s.ports.service, s.ports.health]);
    const checked: [string, string, readonly number[], number][] = [
      ...Object.entries(services).map(([name, s]): [string, string, readonly number[], number] => [name, s.container, [], 256]),
      ["the stack's ports", `fleet-${STACK}-ports`, published, 64],
    ];
    for (const [name, container, ports, pids] of checked) {
      const inspected = JSON.parse(docker("inspect", container))[0] as Inspected;
      assert.equal(inspected.HostConfig.PidsLimit, pids, `${name}: its PIDs limit`);
      verdicts[name] = cisSection5(inspected, ports, info);
      const failed = verdicts[name].filter((v) => v.status === "fail" && !DELIBERATE[v.id]);
      assert.deepEqual(failed, [], `${name}: CIS section 5 checks that fail`);
    }
    const first = Object.values(verdicts)[0];
    results.cis = { pass: first.filter((v) => v.status === "pass").map((v) => v.id), notApplicable: first.filter((v) => v.status === "n/a").map((v) => `${v.id} (${v.why})`), deliberate: DELIBERATE };
  });

  it("changes nothing when a service is pinned to the digest it runs, and holds it there through a source change until unpinned", () => {
    const before = containers();
    const image = outputs().CentralErrorBus.image;
    mustPulumi(["config", "set", "--path", "fleet:images.CentralErrorBus", image, "--stack", STACK], { cwd: dir, env });
    assert.deepEqual(mustUp("pin-running-digest").steps, [], "a pin to the digest it runs changes nothing");
    assert.deepEqual(containers(), before, "every container kept its ID");
    // The pin holds: a change of the service's source builds its image, the container stays.
    fs.appendFileSync(path.join(dir, CEB, "app/__init__.py"), "\n# a change while pinned\n");
    const held = mustUp("source-change-while-pinned");
    assert.equal(imagesBuilt(held.steps), 1, "the source still builds while pinned");
    assert.deepEqual(containers(), before, "the pinned container keeps running");
    assert.equal(outputs().CentralErrorBus.image, image, "the service still runs the pinned digest");
    mustPulumi(["config", "rm", "--path", "fleet:images.CentralErrorBus", "--stack", STACK], { cwd: dir, env });
    const unpinned = mustUp("unpin");
    assert.equal(imagesBuilt(unpinned.steps), 0, "unpinning builds nothing: the image is built already");
    const now = containers();
    assert.deepEqual(Object.keys(now).filter((n) => now[n] !== before[n]), ["CentralErrorBus"], "only the unpinned service's container is replaced");
    assert.notEqual(outputs().CentralErrorBus.image, image, "it runs what its source builds");
    assert.ok(registryHas(image), `${image}, the pin, is still in the registry`);
  });

  it("comes back healthy by itself after the engine stops cleanly and starts again, and the next up is a no-op", async () => {
    // Before the stop, Docker's own check reports every container healthy, as it does one probe
    // interval after an up: with live-restore, an engine that restarts does not probe its running
    // containers again (moby/moby#41871), so it goes on reporting what it last knew.
    await waitHealthy(30);
    const before = containers();
    engine("down", "docker");
    engine("up", "docker");
    results.cleanRestartHealthySeconds = await waitHealthy(60);
    await healthy();
    assert.deepEqual(Object.keys(containers()).sort(), Object.keys(before).sort(), "the same containers, nothing added");
    const r = mustUp("after-clean-restart");
    assert.deepEqual(r.steps, [], "the next up changes nothing");
  });

  it("comes back healthy by itself after the engine is killed (kill -9), and the next up is a no-op", async () => {
    engine("kill", "docker");
    engine("up", "docker");
    results.killRestartHealthySeconds = await waitHealthy(60);
    await healthy();
    const r = mustUp("after-kill");
    assert.deepEqual(r.steps, [], "the next up changes nothing");
  });

  it("comes back healthy after a power cut (every process of the engine and its containers killed), and the next up is a no-op", async () => {
    const before = containers();
    const pids = Object.values(before).map((id) => Number(docker("inspect", "-f", "{{.State.Pid}}", id)));
    assert.ok(pids.every((p) => p > 0 && fs.existsSync(`/proc/${p}`)), "every container runs before the cut");
    engine("poweroff", "docker");
    // SIGKILL is instant, the teardown of a killed process is not: give a loaded machine 15 s.
    const living = () => pids.filter((p) => fs.existsSync(`/proc/${p}`) && !/^State:\s+Z/m.test(readOr(`/proc/${p}/status`)));
    for (let i = 0; i < 60 && living().length; i++) await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual(living(), [], "the cut killed every container's process");
    for (const [name, s] of Object.entries(outputs())) await assert.rejects(get(s.healthUrl), `${name} answers nothing while the power is off`);
    engine("up", "docker");
    results.powerCutHealthySeconds = await waitHealthy(90);
    await healthy();
    assert.deepEqual(Object.keys(containers()).sort(), Object.keys(before).sort(), "the same containers, restarted by their restart policy");
    const r = mustUp("after-power-cut");
    assert.deepEqual(r.steps, [], "the next up changes nothing");
  });

  it("fails an up whose image passes a naive check but not the container's settings, and keeps the old one serving", async () => {
    const before = containers();
    const init = path.join(dir, CEB, "app/__init__.py");
    const good = fs.readFileSync(init, "utf8");
    // Starts more threads than the profile's PIDs limit allows when the package is imported:
    // healthy in a bare `docker run`, dead with the fleet's settings.
    fs.writeFileSync(init, `${good}\nimport threading, time\nfor _ in range(400):\n    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n`);
    try {
      const threads = "import threading, time\nfor _ in range(400):\n    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\nprint('threads ok')";
      const image = outputs().CentralErrorBus.image;
      assert.match(ts.docker("run", "--rm", "--entrypoint", "python", image, "-c", threads).stdout, /threads ok/, "a bare run starts the threads");
      assert.notEqual(ts.docker("run", "--rm", "--pids-limit", "256", "--entrypoint", "python", image, "-c", threads).status, 0, "the profile's PIDs limit stops them");
      const r = up("real-settings-canary");
      assert.notEqual(r.status, 0, "the update fails");
      assert.match(r.diagnostics + r.stderr, /CentralErrorBus: image \S+central-error-bus@sha256:[0-9a-f]{64} stopped before it was healthy .*when run with the container's settings; the running container was left as it was/);
      assert.match(r.diagnostics + r.stderr, /can't start new thread/);
      assert.deepEqual(containers(), before, "the running containers were not touched, and no canary is left");
      await healthy();
    } finally {
      fs.writeFileSync(init, good);
    }
  });

  it("fails an up with the registry down, naming it, and leaves the fleet as it was", async () => {
    const before = containers();
    fs.appendFileSync(path.join(dir, CEB, "app/__init__.py"), "\n# a change while the registry is down\n");
    engine("down", "registry");
    try {
      const r = up("registry-down");
      assert.notEqual(r.status, 0);
      assert.match(r.diagnostics + r.stderr, new RegExp(`the registry ${registry.replace(/\./g, "\\.")} \\(fleet:registry ${registry.replace(/\./g, "\\.")}/${STACK}\\) does not answer .*nothing was changed`));
      assert.equal(imagesBuilt(r.steps), 0);
      assert.deepEqual(containers(), before);
      await healthy();
    } finally {
      engine("up", "registry", REGISTRY_PORT);
    }
  });

  it("fails an up with BuildKit down, naming the builder, and leaves the fleet as it was", async () => {
    const before = containers();
    engine("down", "buildkit");
    try {
      const r = up("buildkit-down");
      assert.notEqual(r.status, 0);
      assert.match(r.diagnostics + r.stderr, new RegExp(`the BuildKit daemon of builder "${STACK}" at unix://\\S+ does not answer .*nothing was changed`));
      assert.deepEqual(containers(), before);
      await healthy();
    } finally {
      engine("up", "buildkit");
    }
    const r = mustUp("after-faults");
    assert.equal(imagesBuilt(r.steps), 1, "the pending change builds once everything is back");
  });

  it("converges after an update killed half way, and says what it cleaned up", async () => {
    // A profile change replaces every container; the update is killed once one has been replaced.
    const profile = path.join(dir, "profiles/local.json");
    fs.writeFileSync(profile, fs.readFileSync(profile, "utf8").replace('"MODEL_EVICT_THRESHOLD_PCT": 70', '"MODEL_EVICT_THRESHOLD_PCT": 71'));
    const before = containers();
    const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", STACK, "--non-interactive"], { cwd: dir, env, detached: true, stdio: "ignore" });
    const deadline = Date.now() + 300_000;
    for (;;) {
      // A replacement is created next to the container it replaces and started once that one stops.
      const now = ts.containers();
      const replaced = Object.entries(before).filter(([n, id]) => now[n] && now[n] !== id);
      if (replaced.length >= 1) break;
      if (Date.now() > deadline) assert.fail("no container was replaced within 300 s");
      await new Promise((r) => setTimeout(r, 250));
    }
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((r) => setTimeout(r, 1000));
    const recovered = must(...fleetCommand("recover", "--stack", STACK), { cwd: dir, env });
    results.recover = recovered.stdout.trim().split("\n");
    // A provider process the kill did not reach may still finish and remove its own canary, so
    // what must hold is that none is left and that recover names what it removed.
    assert.deepEqual(Object.keys(containers()).filter((n) => n.includes(" canary ")), [], "no canary is left");
    // Every kill leaves the update's lock; what recover is for is the rest: a container the update
    // created but never recorded, a canary, or an operation the state still calls in flight.
    assert.match(recovered.stdout, /^recover: (removed container|removed health canary|cleared an interrupted \w+ of urn:|removed \S+, left by a state write)/m, `it says what it cleaned up besides the lock:\n${recovered.stdout}`);
    const r = mustUp("after-killed-up");
    assert.ok(r.steps.length > 0, "the rest of the update is carried out");
    const after = docker("ps", "-a", "--filter", `label=dev.fleet.stack=${STACK}`, "--format", `{{.Label "dev.fleet.service"}} {{.Label "dev.fleet.role"}} {{.State}}`).split("\n").filter(Boolean);
    assert.deepEqual(after.sort(), [...SERVICES.map((s) => `${s}  running`), " ports running"].sort(), "one running container per service and the stack's ports: no duplicate, orphan, stopped one or canary");
    await healthy();
    for (const [name, s] of Object.entries(outputs())) {
      const envs = docker("inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", s.container);
      assert.match(envs, /^MODEL_EVICT_THRESHOLD_PCT=71$/m, `${name} runs the new profile`);
    }
    assert.deepEqual(ts.pulumi(dir, "preview", "--expect-no-changes").status, 0, "and the stack is converged");
  });
});

/** A file's text, or "" when it is gone (a process that exited between two reads). */
function readOr(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
