import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { changedSteps, checkout, diagnostics, engineEnv, get, imagesBuilt, must, run, TestStack, testStack } from "../support/engine";

/**
 * Two machines, one set of images, on two real Docker engines of this machine (scripts/engine.sh):
 * `e2e-mainpc` (engine mainpc, published on 127.0.0.7) builds the whole catalog and runs its nine
 * services; `e2e-pc2` (engine pc2, 127.0.0.8) takes the images from e2e-mainpc through its
 * StackReference (fleet:imagesFrom), builds nothing and runs its five with the same digests. Both
 * use CPU-only variants of the real profiles (profiles/mainpc-cpu.json, pc2-cpu.json). Then the
 * GPU preflight: pc2 with its real GPU profile is refused by the GPU-less engine, changing nothing.
 * One backend (both stacks' state in one directory, as one Pulumi organization at home). Warm
 * builder: a few minutes; cold: add the 15 builds (~5 min here).
 */
describe("two machines: mainpc builds, pc2 runs the same digests", function () {
  const REGISTRY = "127.0.0.1:5000/e2e-two";
  const ON_BOTH = ["SelfHealingSupervisor", "MemoryFusionHub", "RealTimeAudioPipeline", "UnifiedObservabilityCenter"];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-two-"));
  const env = engineEnv(path.join(work, "state"));
  fs.mkdirSync(path.join(work, "state"));
  let dir = "";
  let mainpc: TestStack;
  let pc2: TestStack;
  const ups: Record<string, { status: number; built: number; changed: number; seconds: number; diagnostics: string; stderr: string }> = {};

  const up = (ts: TestStack) => {
    const r = ts.pulumi(dir, "up", "--yes", "--skip-preview", "--json");
    const steps = changedSteps(r.stdout);
    return (ups[ts.stack] = { status: r.status, built: imagesBuilt(steps), changed: steps.length, seconds: r.seconds, diagnostics: diagnostics(r.stdout), stderr: r.stderr });
  };
  const output = (ts: TestStack, name: string) => JSON.parse(must("pulumi", ["stack", "output", name, "--json", "--stack", ts.stack], { cwd: dir, env }).stdout);
  const running = (ts: TestStack) =>
    Object.fromEntries(
      ts.docker("ps", "--filter", `label=dev.fleet.stack=${ts.stack}`, "--filter", "status=running", "--format", '{{.Label "dev.fleet.service"}} {{.Image}}').stdout.split("\n").filter(Boolean).map((l) => l.split(" ")),
    ) as Record<string, string>;

  before(function () {
    dir = checkout(path.join(work, "fleet"), "0022");
    must("bash", ["scripts/infra.sh"], { cwd: dir, env, timeoutSeconds: 1800 });
    const common = { locks: "cpu", cpuOnly: "true", healthTimeoutSeconds: "90" };
    mainpc = testStack(dir, env, { stack: "e2e-mainpc", engine: "mainpc", bindAddress: "127.0.0.7", registry: REGISTRY, config: { ...common, machine: "mainpc", profile: "mainpc-cpu", buildCatalog: "true" } });
    pc2 = testStack(dir, env, { stack: "e2e-pc2", engine: "pc2", bindAddress: "127.0.0.8", registry: REGISTRY, config: { ...common, machine: "pc2", profile: "pc2-cpu", imagesFrom: "organization/fleet/e2e-mainpc" } });
    must("git", ["add", "-A", "."], { cwd: dir });
    must("git", ["-c", "user.name=fleet-test", "-c", "user.email=test@fleet.invalid", "commit", "-qm", "two machines"], { cwd: dir });
    for (const ts of [mainpc, pc2]) must("pulumi", ["stack", "init", ts.stack, "--non-interactive"], { cwd: dir, env });
    for (const ts of [mainpc, pc2]) {
      const r = up(ts);
      if (r.status !== 0) assert.fail(`pulumi up -s ${ts.stack} exited ${r.status}\n${r.diagnostics.split("\n").slice(-30).join("\n")}\n${r.stderr.split("\n").slice(-20).join("\n")}`);
    }
    for (const [stack, u] of Object.entries(ups)) console.log(`      ${stack}: up in ${u.seconds.toFixed(0)} s, ${u.built} images built, ${u.changed} resources changed`);
  });

  after(function () {
    for (const ts of [pc2, mainpc].filter(Boolean)) run("pulumi", ["destroy", "--yes", "--stack", ts.stack, "--non-interactive"], { cwd: dir, env, timeoutSeconds: 900 });
    for (const name of ["pc2", "mainpc"]) run("bash", ["scripts/engine.sh", "down", "docker", name], { cwd: dir || os.tmpdir(), env });
  });

  it("mainpc builds all 15 images and runs its nine services, healthy, on its own engine", async function () {
    assert.equal(ups["e2e-mainpc"].built, 15);
    const services = output(mainpc, "services") as Record<string, { healthUrl: string }>;
    assert.equal(Object.keys(services).length, 9);
    for (const [name, s] of Object.entries(services)) {
      assert.match(s.healthUrl, /^http:\/\/127\.0\.0\.7:/, name);
      const res = await get(s.healthUrl);
      assert.deepEqual([res.status, JSON.parse(res.body)], [200, { status: "ok" }], name);
    }
    assert.equal(Object.keys(running(mainpc)).length, 9);
    assert.equal(Object.keys(output(mainpc, "images")).length, 10, "every catalog image is exported, CentralErrorBus too");
  });

  it("pc2 builds nothing and runs its five services with mainpc's digests, healthy, on its own engine", async function () {
    assert.equal(ups["e2e-pc2"].built, 0);
    const images = output(mainpc, "images") as Record<string, string>;
    const services = output(pc2, "services") as Record<string, { image: string; healthUrl: string }>;
    assert.deepEqual(Object.keys(services).sort(), ["CentralErrorBus", ...ON_BOTH].sort());
    for (const [name, s] of Object.entries(services)) {
      assert.equal(s.image, images[name], `${name} runs what mainpc built`);
      assert.match(s.healthUrl, /^http:\/\/127\.0\.0\.8:/, name);
      const res = await get(s.healthUrl);
      assert.deepEqual([res.status, JSON.parse(res.body)], [200, { status: "ok" }], name);
    }
  });

  it("a service placed on both runs the same digest on both engines", function () {
    const a = output(mainpc, "services") as Record<string, { image: string }>;
    const b = output(pc2, "services") as Record<string, { image: string }>;
    for (const name of ON_BOTH) assert.equal(b[name].image, a[name].image, name);
    const onA = running(mainpc);
    const onB = running(pc2);
    for (const name of ON_BOTH) assert.ok(onA[name] && onB[name], `${name} runs on both engines`);
  });

  it("pc2 with its real GPU profile is refused by a GPU-less engine before anything changes", function () {
    const before = running(pc2);
    must("pulumi", ["config", "set", "fleet:profile", "pc2", "--stack", pc2.stack], { cwd: dir, env });
    must("pulumi", ["config", "set", "fleet:cpuOnly", "false", "--stack", pc2.stack], { cwd: dir, env });
    try {
      const r = up(pc2);
      assert.notEqual(r.status, 0);
      assert.equal(r.changed, 0, "no resource changed");
      assert.match(r.diagnostics + r.stderr, /fleet: stack e2e-pc2 cannot run on its Docker host; nothing was changed:\n\s+fleet:dockerHost unix:\/\/\S+: engine .* has no NVIDIA runtime registered and no CDI GPU devices, so RealTimeAudioPipeline cannot get a GPU/);
      assert.deepEqual(running(pc2), before, "the running containers are as they were");
    } finally {
      must("pulumi", ["config", "set", "fleet:profile", "pc2-cpu", "--stack", pc2.stack], { cwd: dir, env });
      must("pulumi", ["config", "set", "fleet:cpuOnly", "true", "--stack", pc2.stack], { cwd: dir, env });
    }
  });
});
