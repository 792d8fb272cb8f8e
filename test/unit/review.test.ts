import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseDigest, policyResults, UNKNOWN } from "../../review/preview";
import { commentMarker, renderMarkdown, renderText } from "../../review/render";
import { containerReasons, imageInputs, Review, summarise } from "../../review/summary";
import { REPO, tempDir } from "../support/project";

const FIXTURES = path.join(REPO, "test/fixtures/preview");
const fixture = (name: string) => parseDigest(fs.readFileSync(path.join(FIXTURES, name), "utf8"));
const reviewOf = (name: string, events?: string) => summarise("e2e-review", fixture(name), events ? policyResults(fs.readFileSync(path.join(FIXTURES, events), "utf8")) : undefined);
const service = (r: Review, name: string) => {
  const s = r.services.find((x) => x.service === name);
  assert.ok(s, `${name} is in the review; have ${r.services.map((x) => x.service).join(", ")}`);
  return s;
};
const ALL = ["CentralErrorBus", "RealTimeAudioPipeline", "SystemDigitalTwin", "UnifiedObservabilityCenter"];

describe("review", () => {
  describe("reasons in plain words", () => {
    const container = (envs: string[], over: Record<string, unknown> = {}) => ({
      urn: "u",
      type: "docker:index/container:Container",
      inputs: { envs, ports: [{ ip: "127.0.0.5", external: 7150, internal: 7150 }], memory: 256, labels: [{ label: "dev.fleet.image", value: `r/x@sha256:${"a".repeat(64)}` }], ...over },
    });
    it("names each env key whose value changes, old -> new, and keys added or removed", () => {
      // The name follows the settings (a hash of them): the settings that moved are the reasons.
      const reasons = containerReasons(container(["OMP_NUM_THREADS=16", "A=1", "GONE=x"], { name: "fleet-x-1234abcd" }), container(["OMP_NUM_THREADS=12", "A=1", "NEW=y"], { name: UNKNOWN }));
      assert.deepEqual(reasons, ["env GONE removed (was x)", "env NEW added (y)", "OMP_NUM_THREADS 16 -> 12"]);
    });
    it("reviews the plain env of a container with secrets, and counts the secret entries without their text", () => {
      const reasons = containerReasons(container(["UVICORN_WORKERS=8", "[secret]"]), container(["UVICORN_WORKERS=1", "[secret]", "[secret]"]) as never);
      assert.deepEqual(reasons, ["secret env entries 1 -> 2", "UVICORN_WORKERS 8 -> 1"]);
      const wholly = containerReasons(container(["A=1"]), container([], { envs: "[secret]" }));
      assert.deepEqual(wholly, ["env (secret: not shown)"]);
    });
    it("names the image, ports, GPU and limits", () => {
      const reasons = containerReasons(
        container([]),
        container([], {
          labels: [{ label: "dev.fleet.image", value: `r/x@${UNKNOWN}` }],
          ports: [{ ip: "0.0.0.0", external: 7150, internal: 7150 }],
          deviceRequests: [{ driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] }],
          memory: 512,
        }),
      );
      assert.deepEqual(reasons, ["image sha256:aaaaaaaaaaaa -> (after build)", "ports 127.0.0.5:7150->7150 -> 0.0.0.0:7150->7150", "GPU none -> 0", "memory 256 MiB -> 512 MiB"]);
    });
    it("says what the stack's ports gain and lose, and only that their script changed", () => {
      const port = (n: number) => ({ ip: "127.0.0.1", external: n, internal: n });
      const ports = (n: number[], script: string) => container([], { ports: n.map(port), command: ["python", "-c", script, ...n.map((p) => `${p}=svc-${p}:${p}`)] });
      const before = ports([7150, 8150, 7200, 8200], "import asyncio\n# one");
      assert.deepEqual(containerReasons(before, ports([7150, 8150, 7200, 8200, 7300, 8300], "import asyncio\n# one")), [
        "ports +127.0.0.1:7300->7300 +127.0.0.1:8300->8300",
        "command +7300=svc-7300:7300 +8300=svc-8300:8300",
      ]);
      assert.deepEqual(containerReasons(before, ports([7150, 8150, 7200, 8200], "import asyncio\n# two")), ["command (its script changed)"]);
      const review = summarise("s", { steps: [{ op: "replace", urn: "urn:pulumi:s::fleet::fleet:index:Fleet$fleet:containers:StackPorts$docker:index/container:Container::fleet-ports-container", oldState: { ...before, labels: undefined, inputs: { ...before.inputs, name: "fleet-s-ports", labels: [{ label: "dev.fleet.role", value: "ports" }] } } as never }] });
      assert.deepEqual(review.services.map((x) => x.service), ["(the stack's ports)"]);
      const same = summarise("s", { steps: [{ op: "same", urn: "urn:pulumi:s::fleet::fleet:index:Fleet$fleet:containers:StackPorts$docker:index/container:Container::fleet-ports-container", oldState: { inputs: { name: "fleet-s-ports", labels: [{ label: "dev.fleet.role", value: "ports" }] } } } as never] });
      assert.deepEqual(same.services, [], "unchanged, they are not named");
    });
    it("names the build inputs of an image: source, family digest, Dockerfile, lock", () => {
      const old = { context: { location: "/a" }, dockerfile: { inline: "x" }, buildArgs: { FAMILY: `h/fleet/family-web@sha256:${"1".repeat(64)}` } };
      assert.deepEqual(imageInputs("service", old, { ...old, context: { location: "/b" } }), ["source"]);
      assert.deepEqual(imageInputs("service", old, { ...old, buildArgs: { FAMILY: UNKNOWN } }), ["family-web digest"]);
      assert.deepEqual(imageInputs("family", { ...old, buildArgs: { LOCK: "a.lock" } }, { ...old, dockerfile: { inline: "y" }, buildArgs: { LOCK: "b.lock" } }), ["Dockerfile", "lock a.lock -> b.lock"]);
    });
    it("names new inputs by their digest, as the tag shows it, and the build arg that follows them not at all", () => {
      const named = (hex: string) => ({ context: { location: `/${hex}` }, labels: { "dev.fleet.inputs": hex.repeat(64) }, tags: [`h/fleet/x:src-${hex.repeat(12)}`], buildArgs: { FLEET_INPUTS: hex.repeat(64) } });
      assert.deepEqual(imageInputs("service", named("a"), named("b")), ["source", "inputs aaaaaaaaaaaa -> bbbbbbbbbbbb"]);
      const gitNamed = { labels: { "org.opencontainers.image.revision": "c".repeat(40) }, tags: ["h/fleet/x:20260101-ccccccc"], buildArgs: { FLEET_REVISION: "c".repeat(40) } };
      assert.deepEqual(imageInputs("service", gitNamed, { ...named("b"), context: undefined }), ["inputs (none) -> bbbbbbbbbbbb", "label org.opencontainers.image.revision"], "the first preview after images were named by content");
    });
  });

  describe("policy results from an engine event log", () => {
    it("lists passed and failed policies and each violation with its level", () => {
      const log = [
        JSON.stringify({ policyLoadEvent: {} }),
        JSON.stringify({ policyAnalyzeSummaryEvent: { passed: ["healthcheck", "runs-as-10001"], failed: [] } }),
        JSON.stringify({ policyEvent: { resourceUrn: "urn:x", message: "No port on all interfaces.\nCentralErrorBus: port 7150 ...\n", policyName: "no-publish-on-all-interfaces", policyPackName: "fleet", enforcementLevel: "mandatory" } }),
        JSON.stringify({ policyAnalyzeStackSummaryEvent: { passed: ["pids-limit"] } }),
      ].join("\n");
      assert.deepEqual(policyResults(log), {
        passed: ["healthcheck", "pids-limit", "runs-as-10001"],
        failed: ["no-publish-on-all-interfaces"],
        violations: [{ policy: "no-publish-on-all-interfaces", pack: "fleet", level: "mandatory", urn: "urn:x", message: "CentralErrorBus: port 7150 ..." }],
      });
    });
    it("is absent when no pack ran", () => assert.equal(policyResults(JSON.stringify({ preludeEvent: {} })), undefined));
  });

  describe("recorded previews of this engine", () => {
    it("a profile env change: every container restarts for OMP_NUM_THREADS, no image rebuilt", () => {
      const r = reviewOf("profile-env.json");
      assert.deepEqual(r.services.map((s) => s.service), ALL);
      for (const s of r.services) {
        assert.equal(s.image.status, "unchanged", s.service);
        assert.equal(s.container?.op, "replace", s.service);
        assert.deepEqual(s.container?.reasons, ["OMP_NUM_THREADS 1 -> 2"], s.service);
      }
      assert.deepEqual([r.totals.imagesRebuilt, r.totals.containersRestarted, r.families.length], [0, 4, 0]);
    });

    it("one service's source change: that image rebuilds for its source and its container restarts for the new image", () => {
      const r = reviewOf("one-service-source.json");
      const ceb = service(r, "CentralErrorBus");
      assert.equal(ceb.image.status, "rebuild");
      assert.ok(ceb.image.inputs.includes("source"), ceb.image.inputs.join("; "));
      assert.match(ceb.image.from ?? "", /^sha256:[0-9a-f]{64}$/);
      assert.equal(ceb.image.to, undefined, "preview builds nothing: the new digest is not known");
      assert.equal(ceb.container?.op, "replace");
      assert.match(ceb.container?.reasons[0] ?? "", /^image sha256:[0-9a-f]{12} -> \(after build\)$/);
      for (const name of ALL.filter((n) => n !== "CentralErrorBus")) assert.deepEqual([service(r, name).image.status, service(r, name).container], ["unchanged", undefined], name);
      assert.deepEqual([r.totals.imagesRebuilt, r.totals.containersRestarted, r.totals.servicesUnchanged], [1, 1, 3]);
    });

    it("a family change (its lock): the family rebuilds for its lock and drags exactly its services", () => {
      const r = reviewOf("family-change.json");
      assert.deepEqual(r.families.map((f) => f.family), ["family-web"]);
      assert.ok(r.families[0].inputs.includes("lock/context files"), r.families[0].inputs.join("; "));
      assert.deepEqual(r.families[0].drags, ["CentralErrorBus", "UnifiedObservabilityCenter"]);
      for (const name of ["CentralErrorBus", "UnifiedObservabilityCenter"]) {
        assert.equal(service(r, name).image.status, "rebuild", name);
        assert.ok(service(r, name).image.inputs.includes("family-web digest"), service(r, name).image.inputs.join("; "));
        assert.equal(service(r, name).container?.op, "replace", name);
      }
      for (const name of ["SystemDigitalTwin", "RealTimeAudioPipeline"]) assert.deepEqual([service(r, name).image.status, service(r, name).container], ["unchanged", undefined], name);
    });

    it("a pin (a roll back to the previous digest): the forced digest old -> new, and only that container restarts", () => {
      const r = reviewOf("pin.json");
      const moving = r.services.filter((s) => s.container || s.image.status !== "unchanged");
      assert.deepEqual(moving.map((s) => s.service), ["CentralErrorBus"]);
      const ceb = moving[0];
      assert.equal(ceb.image.status, "pinned");
      assert.match(ceb.image.from ?? "", /^sha256:[0-9a-f]{64}$/);
      assert.match(ceb.image.to ?? "", /^sha256:[0-9a-f]{64}$/);
      assert.notEqual(ceb.image.from, ceb.image.to);
      assert.equal(ceb.container?.op, "replace");
      assert.ok(ceb.container?.reasons.includes(`image ${ceb.image.from!.slice(0, 19)} -> ${ceb.image.to!.slice(0, 19)}`), ceb.container?.reasons.join("; "));
    });

    it("policy results of a violating preview, in text, markdown and exit status", () => {
      const r = reviewOf("writable-root.json", "writable-root.events.jsonl");
      assert.deepEqual(r.policy?.failed, ["read-only-root"]);
      assert.equal(r.policy?.violations.length, 4);
      assert.ok(r.policy?.passed.includes("pids-limit"), r.policy?.passed.join(", "));
      assert.match(renderText(r), /\[mandatory\] read-only-root: CentralErrorBus: readOnly must be true \(a read-only root filesystem\); got false/);
      const md = renderMarkdown(r);
      assert.ok(md.startsWith(commentMarker("e2e-review")));
      assert.match(md, /⛔ `read-only-root`/);
    });
  });

  describe("the command", () => {
    /** Runs `fleet review` in this process, capturing what it prints. */
    async function review(...args: string[]): Promise<{ code: number; out: string }> {
      const { command } = await import("../../cli/review");
      let out = "";
      const write = process.stdout.write;
      process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
      try {
        return { code: await command.run(args), out };
      } finally {
        process.stdout.write = write;
      }
    }
    it("summarises a recorded preview with --from, as markdown and JSON, and exits 1 on a mandatory violation", async () => {
      const md = path.join(tempDir("fleet-review-"), "comment.md");
      const ok = await review("--stack", "e2e-review", "--from", path.join(FIXTURES, "profile-env.json"), "--json", "--markdown", md);
      assert.equal(ok.code, 0);
      assert.equal((JSON.parse(ok.out) as Review).totals.containersRestarted, 4);
      assert.match(fs.readFileSync(md, "utf8"), /`OMP_NUM_THREADS 1 -> 2`/);
      const blocked = await review("--stack", "e2e-review", "--from", path.join(FIXTURES, "writable-root.json"), "--events", path.join(FIXTURES, "writable-root.events.jsonl"));
      assert.equal(blocked.code, 1);
      assert.match(blocked.out, /policy pack: 11 passed, 1 failed/);
    });
    it("rejects a missing --stack, --events without --from and an unreadable file, each in one line", async () => {
      await assert.rejects(review("--json"), { name: "CliError", message: "review: --stack is required (the stack to review, like mainpc)" });
      await assert.rejects(review("--stack", "x", "--events", "e.jsonl"), { name: "CliError", message: "review: --events goes with --from (a recorded preview)" });
      await assert.rejects(review("--stack", "x", "--from", "/nonexistent/p.json"), { name: "CliError", message: "review: --from /nonexistent/p.json: cannot read it (ENOENT)" });
    });
  });
});
