import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { Review } from "../../review/summary";
import { changedSteps, checkout, diagnostics, engineEnv, must, run, Step, TestStack, testStack } from "../support/engine";
import { writeResults } from "../support/results";
import { REPO, tempDir } from "../support/project";
import { fleetCommand } from "../support/cli";

/**
 * `fleet review` and the policy pack against the real engine, providers, BuildKit, registry and a
 * Docker engine of this suite's own. Namespace: stack e2e-review, 127.0.0.5, registry path
 * 127.0.0.1:5000/e2e-review, network fleet-e2e-review, its own state. Four services (three
 * families) keep the cold up short; one deployment serves every assertion.
 */
describe("fleet review and the policy pack, end to end", function () {
  const STACK = "e2e-review";
  const CEB = "services/central-error-bus";
  const work = tempDir("fleet-review-e2e-", this);
  const env = engineEnv(path.join(work, "state"));
  fs.mkdirSync(path.join(work, "state"));
  const results: Record<string, unknown> = {};
  let dir = "";
  let ts: TestStack;

  const pulumi = (...args: string[]) => ts.pulumi(dir, ...args);
  const containerIds = () => ts.containers();
  const fail = (what: string, r: { status: number; stdout: string; stderr: string }) =>
    assert.fail(`${what} exited ${r.status}\n${(diagnostics(r.stdout) || r.stdout).split("\n").slice(-40).join("\n")}\n${r.stderr.split("\n").slice(-40).join("\n")}`);
  const review = (...extra: string[]) => run(...fleetCommand("review", "--stack", STACK, ...extra), { cwd: dir, env });
  const up = (label: string) => {
    const r = pulumi("up", "--yes", "--skip-preview", "--json", "--policy-pack", "policy");
    fs.writeFileSync(path.join(work, `${label}.events.json`), r.stdout);
    results[label] = { seconds: r.seconds };
    if (r.status !== 0) fail(`pulumi up (${label})`, r);
    return changedSteps(r.stdout);
  };
  /** Services whose container an update replaced, from its steps (the URN names the component). */
  const replacedBy = (steps: Step[]) =>
    [...new Set(steps.filter((s) => s.type === "docker:index/container:Container" && /replace|create|delete/.test(s.op)).map((s) => s.urn.split("::").pop()!))].sort();
  const slugOf: Record<string, string> = {
    CentralErrorBus: "central-error-bus",
    UnifiedObservabilityCenter: "unified-observability-center",
    SystemDigitalTwin: "system-digital-twin",
    RealTimeAudioPipeline: "real-time-audio-pipeline",
  };

  before(function () {
    dir = checkout(path.join(work, "checkout"), "0022");
    must("bash", ["scripts/infra.sh"], { cwd: dir, env, timeoutSeconds: 1800 });
    ts = testStack(dir, env, {
      stack: STACK,
      engine: "review",
      bindAddress: "127.0.0.5",
      config: { sources: { CentralErrorBus: CEB }, services: { names: Object.keys(slugOf) } },
    });
    fs.cpSync(path.join(dir, "examples/reference-service"), path.join(dir, CEB), { recursive: true });
    ts.init(dir);
    must("git", ["add", "-A", "."], { cwd: dir });
    must("git", ["-c", "user.name=fleet-test", "-c", "user.email=test@fleet.invalid", "commit", "-qm", "e2e-review stack"], { cwd: dir });
  });

  after(function () {
    if (ts) {
      pulumi("destroy", "--yes");
      run("bash", ["scripts/engine.sh", "down", "docker", "review"], { cwd: dir, env });
    }
    writeResults("e2e-review", this.test!.parent!, results);
  });

  it("the pack passes the real stack: a cold up with the pack, then a quiet preview with it", () => {
    up("cold-up");
    const quiet = pulumi("preview", "--expect-no-changes", "--policy-pack", "policy");
    if (quiet.status !== 0) fail("pulumi preview --expect-no-changes --policy-pack policy", quiet);
    assert.match(quiet.stdout, /Policies:[\s\S]*fleet@v1\.0\.0/, "the pack ran");
    assert.equal(Object.keys(containerIds()).length, 5, "four services and the stack's ports");
  });

  it("the pack stops a preview of a change that gives containers a writable root, naming the policy, each service and the stack's ports", () => {
    // The program's own checks reject bad stack settings before the pack sees them; the pack is
    // there for changes to the code, like this one: the settings every container has.
    const file = path.join(dir, "components/runSpec.ts");
    const good = fs.readFileSync(file, "utf8");
    assert.ok(good.includes("readOnly: true,"));
    fs.writeFileSync(file, good.replace("readOnly: true,", "readOnly: false,"));
    try {
      const r = pulumi("preview", "--policy-pack", "policy");
      assert.notEqual(r.status, 0, "a mandatory violation fails the preview");
      assert.match(r.stdout + r.stderr, /read-only-root/);
      for (const name of [...Object.keys(slugOf), `fleet-${STACK}-ports`]) assert.match(r.stdout + r.stderr, new RegExp(`${name}: readOnly must be true \\(a read-only root filesystem\\); got false`));
      const rv = review("--policy", "--json");
      assert.equal(rv.status, 1, "fleet review exits 1 on a mandatory violation");
      const doc = JSON.parse(rv.stdout) as Review;
      assert.deepEqual(doc.policy?.failed, ["read-only-root"]);
      assert.equal(doc.policy?.violations.filter((v) => v.level === "mandatory").length, Object.keys(slugOf).length + 1);
    } finally {
      fs.writeFileSync(file, good);
    }
  });

  it("review after a profile change names every container and the setting, and up does exactly that", () => {
    const profile = path.join(dir, "profiles/local.json");
    const json = JSON.parse(fs.readFileSync(profile, "utf8"));
    json.env.OMP_NUM_THREADS = 2;
    fs.writeFileSync(profile, JSON.stringify(json, null, 2) + "\n");
    const rv = review("--policy", "--json", "--markdown", path.join(work, "profile.md"));
    if (rv.status !== 0) fail("fleet review after a profile change", rv);
    const doc = JSON.parse(rv.stdout) as Review;
    results.profileReview = doc.totals;
    assert.equal(doc.totals.imagesRebuilt, 0, "a profile is runtime env: no image rebuilt");
    const restarted = doc.services.filter((s) => s.container?.op === "replace").map((s) => s.service).sort();
    assert.deepEqual(restarted, Object.keys(slugOf).sort());
    for (const s of doc.services) assert.ok(s.container?.reasons.includes("OMP_NUM_THREADS 1 -> 2"), `${s.service}: ${s.container?.reasons}`);
    assert.match(fs.readFileSync(path.join(work, "profile.md"), "utf8"), /`OMP_NUM_THREADS 1 -> 2`/);

    const before = containerIds();
    const steps = up("profile-up");
    assert.deepEqual(replacedBy(steps), restarted.map((s) => `fleet-${slugOf[s]}-container`).sort(), "up replaced the containers the review named");
    assert.equal(steps.filter((s) => s.type === "docker-build:index:Image").length, 0);
    const after = containerIds();
    for (const name of Object.keys(before)) {
      if (name === "(the stack's ports)") assert.equal(after[name], before[name], "the stack's ports run no profile: kept");
      else assert.notEqual(after[name], before[name], `${name} restarted`);
    }
  });

  it("review after one service's source change names its image and container only, and up does exactly that", () => {
    fs.appendFileSync(path.join(dir, CEB, "app/__init__.py"), "\n# a change to CentralErrorBus alone\n");
    const rv = review("--json");
    if (rv.status !== 0) fail("fleet review after a source change", rv);
    const doc = JSON.parse(rv.stdout) as Review;
    results.sourceReview = doc.totals;
    const ceb = doc.services.find((s) => s.service === "CentralErrorBus")!;
    assert.equal(ceb.image.status, "rebuild");
    assert.ok(ceb.image.inputs.includes("source"), ceb.image.inputs.join("; "));
    assert.equal(ceb.container?.op, "replace");
    assert.ok(ceb.container?.reasons.some((r) => /^image sha256:[0-9a-f]{12} -> \(after build\)$/.test(r)), ceb.container?.reasons.join("; "));
    for (const s of doc.services.filter((s) => s.service !== "CentralErrorBus")) {
      assert.deepEqual([s.image.status, s.container], ["unchanged", undefined], s.service);
    }
    assert.equal(doc.families.length, 0);

    const before = containerIds();
    const steps = up("source-up");
    assert.deepEqual(replacedBy(steps), ["fleet-central-error-bus-container"]);
    const built = steps.filter((s) => s.type === "docker-build:index:Image").map((s) => s.urn.split("::").pop());
    assert.deepEqual([...new Set(built)], ["fleet-central-error-bus-image"]);
    const after = containerIds();
    for (const [name, id] of Object.entries(before)) {
      if (name === "CentralErrorBus") assert.notEqual(after[name], id);
      else assert.equal(after[name], id, `${name} kept its container`);
    }
  });

  it("a container stopped by hand is drift (the drift check's preview fails), and up --refresh starts that same container again", () => {
    const before = containerIds();
    const stopped = ts.docker("stop", before.CentralErrorBus);
    if (stopped.status !== 0) fail("docker stop", stopped);
    const drift = pulumi("preview", "--refresh", "--expect-no-changes", "--json");
    assert.notEqual(drift.status, 0, "the drift check fails");
    const changed = changedSteps(drift.stdout).filter((s) => !["refresh"].includes(s.op)).map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    assert.deepEqual(changed, ["update fleet-central-error-bus-started"], "what it shows is the service's start");
    const r = pulumi("up", "--yes", "--skip-preview", "--refresh", "--json");
    if (r.status !== 0) fail("pulumi up --refresh", r);
    assert.deepEqual(containerIds(), before, "the same containers run, the stopped one started again");
    const quiet = pulumi("preview", "--refresh", "--expect-no-changes");
    if (quiet.status !== 0) fail("the drift check after the up", quiet);
  });
});
