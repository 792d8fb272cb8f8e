import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { formatHistory } from "../../cli/history";
import { readUpdates } from "../../cli/historySource";
import { HistoryFileError, parseHistory, partialUpdateOf, resourcesUsing, servicesOf, toJson, UpdateRow } from "../../cli/stackHistory";
import { CliError } from "../../cli/args";
import { planRollback } from "../../cli/pins";
import { REPO } from "../support/project";

/**
 * History files recorded from the real engine (Pulumi 3.248, file backend) by the rollback e2e,
 * stripped to what fleet reads (history: kind, times, message, git environment, fleet config,
 * result; checkpoints: the stack's `services` output and the containers' fleet labels): up A, up B
 * (CentralErrorBus changed), rollback to 1, release, destroy, and an update that failed on a bad
 * stack file (`fleet:machine: pc3`).
 */
const BACKEND = path.join(REPO, "test/fixtures/history/backend");
const env = { PULUMI_BACKEND_URL: `file://${BACKEND}` };
const STACK = "e2e-rollback";
const DIGEST = /^sha256:[0-9a-f]{64}$/;

describe("stack history", () => {
  let rows: UpdateRow[];
  before(() => {
    rows = parseHistory(readUpdates(REPO, STACK, env));
  });

  it("lists the updates oldest first, numbered from 1, with kind, result, message and commit", () => {
    assert.deepEqual(
      rows.map((r) => [r.update, r.kind, r.result, r.message]),
      [
        [1, "update", "succeeded", "stack e2e-rollback: CentralErrorBus from a folder of its own"],
        [2, "update", "succeeded", "CentralErrorBus: update B"],
        [3, "update", "succeeded", "rollback to update 1"],
        [4, "update", "succeeded", "release CentralErrorBus, ServiceRegistry"],
        [5, "destroy", "succeeded", "CentralErrorBus: update B"],
        [6, "update", "failed", "CentralErrorBus: update B"],
      ],
    );
    for (const r of rows) assert.match(r.commit ?? "", /^[0-9a-f]{40}$/, `update ${r.update}`);
    assert.notEqual(rows[0].commit, rows[1].commit, "B was a new commit");
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i].time > rows[i - 1].time, "times ascend");
  });

  it("reads each service's digest after each update from the checkpoint, marking the ones that changed", () => {
    const a = rows[0].services;
    const b = rows[1].services;
    assert.deepEqual(Object.keys(a).sort(), ["CentralErrorBus", "ServiceRegistry"]);
    for (const s of Object.values(a)) assert.match(s.digest, DIGEST);
    assert.ok(a.CentralErrorBus.image.endsWith(`@${a.CentralErrorBus.digest}`));
    assert.match(a.CentralErrorBus.image, /^127\.0\.0\.1:5000\/e2e-rollback\/central-error-bus@/);
    assert.notEqual(b.CentralErrorBus.digest, a.CentralErrorBus.digest);
    assert.equal(b.ServiceRegistry.digest, a.ServiceRegistry.digest);
    assert.deepEqual(rows.map((r) => r.changed), [["CentralErrorBus", "ServiceRegistry"], ["CentralErrorBus"], ["CentralErrorBus"], ["CentralErrorBus"], ["CentralErrorBus", "ServiceRegistry"], []]);
    assert.deepEqual(rows[2].services, a, "the rollback ran A's digests");
    assert.deepEqual(rows[3].services, b, "the release ran B's again");
    assert.deepEqual(rows[4].services, {}, "nothing runs after a destroy");
  });

  it("keeps the config each update ran with, pins included", () => {
    assert.equal(rows[0].config["fleet:bindAddress"], "127.0.0.4");
    assert.deepEqual(rows[0].config["fleet:images"], {}, "Pulumi.yaml's default, recorded with the rest");
    assert.deepEqual(rows[2].config["fleet:images"], { CentralErrorBus: rows[0].services.CentralErrorBus.image, ServiceRegistry: rows[0].services.ServiceRegistry.image });
  });

  it("prints --json in the documented shape", () => {
    const json = toJson(rows[1]);
    assert.deepEqual(Object.keys(json), ["update", "kind", "result", "time", "commit", "message", "services"]);
    assert.deepEqual(json.services, { CentralErrorBus: rows[1].services.CentralErrorBus.digest, ServiceRegistry: rows[1].services.ServiceRegistry.digest });
  });

  it("prints a table with a line per update and a * on changed digests", () => {
    const text = formatHistory(rows);
    assert.match(text, /^ {2}3 {2}\S+Z {2}update {3}succeeded {2}[0-9a-f]{12} {2}rollback to update 1$/m);
    assert.match(text, new RegExp(`^ {5}\\* CentralErrorBus {2}${rows[2].services.CentralErrorBus.digest}$`, "m"));
    assert.match(text, new RegExp(`^ {7}ServiceRegistry {2}${rows[2].services.ServiceRegistry.digest}$`, "m"));
  });

  it("is what rollback plans over: a failed update and a destroy are refused, A is allowed", () => {
    assert.throws(() => planRollback(STACK, rows, "6", [], {}), (e: unknown) => e instanceof CliError && /update 6 of stack e2e-rollback failed; .*: 1, 2, 3, 4$/.test(e.message));
    assert.throws(() => planRollback(STACK, rows, "5", [], {}), /update 5 of stack e2e-rollback was a destroy/);
    assert.equal(planRollback(STACK, rows, "1", ["CentralErrorBus"], {}).changes[0].from, null, "nothing runs now: the stack was destroyed");
  });

  it("names the file that is not JSON", () => {
    assert.throws(() => parseHistory([{ source: "x/s-1.history.json", history: "{", checkpoint: null }]), (e: unknown) => e instanceof HistoryFileError && /^x\/s-1\.history\.json: is not valid JSON/.test(e.message));
  });

  it("falls back to the containers' labels for a state without the services output", () => {
    const [rec] = readUpdates(REPO, STACK, env).slice(1, 2);
    const checkpoint = JSON.parse(rec.checkpoint!);
    checkpoint.checkpoint.latest.resources = checkpoint.checkpoint.latest.resources.filter((r: { type: string }) => r.type !== "pulumi:pulumi:Stack");
    assert.deepEqual(servicesOf(checkpoint), rows[1].services);
  });

  it("rejects an unknown stack, naming the backend and the stacks it has", () => {
    assert.throws(() => readUpdates(REPO, "nope", env), (e: unknown) => e instanceof CliError && new RegExp(`^unknown stack "nope" in ${BACKEND.replace(/[/.]/g, "\\$&")} \\(project fleet\\); known stacks: e2e-rollback$`).test(e.message));
  });

  it("keeps the recorded files small", () => {
    const dir = path.join(BACKEND, ".pulumi");
    const sizes = (d: string): number => fs.readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? sizes(path.join(d, e.name)) : fs.statSync(path.join(d, e.name)).size), 0);
    assert.ok(sizes(dir) < 64 * 1024, `${sizes(dir)} bytes`);
  });
});

describe("what a rollback updates", () => {
  // The state of a bench stack recorded from the real engine, stripped to URNs, types and inputs of
  // two services (CentralErrorBus, ServiceRegistry), their family, and the ObservabilityCenter's
  // container (the build secret's content and the inline Dockerfile left out).
  const checkpoint = JSON.parse(fs.readFileSync(path.join(REPO, "test/fixtures/history/bench-checkpoint.json"), "utf8"));
  const names = (urns: string[]) => urns.map((u) => u.split("::").pop()).sort();
  const imageOf = (service: string) =>
    checkpoint.checkpoint.latest.resources.find((r: { type: string; urn: string }) => r.type === "docker:index/remoteImage:RemoteImage" && r.urn.endsWith(`${service}-pull`)).inputs.name as string;

  it("targets what runs a service's image: pull, canary, gate, SBOM, container, :prev tag, report; not its build, nor another service", () => {
    assert.deepEqual(names(resourcesUsing(checkpoint, [imageOf("central-error-bus")])), [
      "fleet-central-error-bus-canary",
      "fleet-central-error-bus-container",
      "fleet-central-error-bus-prev",
      "fleet-central-error-bus-pull",
      "fleet-central-error-bus-report",
      "fleet-central-error-bus-sbom",
      "fleet-central-error-bus-scan",
    ]);
  });

  it("targets both services' resources when both move, and nothing for an image nothing runs", () => {
    assert.equal(resourcesUsing(checkpoint, [imageOf("central-error-bus"), imageOf("service-registry")]).length, 14);
    assert.deepEqual(resourcesUsing(checkpoint, [`127.0.0.1:5000/fleet/central-error-bus@sha256:${"0".repeat(64)}`]), []);
  });
});


describe("when a rollback can run as a partial update", () => {
  const ref = (slug: string, hex: string) => `127.0.0.1:5000/fleet/${slug}@sha256:${hex.repeat(64)}`;
  const [CEB, SR, UOC] = [ref("central-error-bus", "a"), ref("service-registry", "b"), ref("unified-observability-center", "c")];
  const urn = (type: string, name: string) => `urn:pulumi:local::fleet::fleet:index:Fleet$${type}::${name}`;
  const container = (slug: string) => urn("fleet:containers:ServiceContainer$docker:index/container:Container", `fleet-${slug}-container`);
  const SLUGS = ["central-error-bus", "service-registry", "unified-observability-center"] as const;
  const ports = urn("fleet:containers:StackPorts", "fleet-ports");
  const portsStarted = urn("fleet:containers:StackPorts$pulumi-nodejs:dynamic/fleet:ContainerStarted", "fleet-ports-started");
  const outputs = {
    families: { "family-web": ref("family-web", "f") },
    services: { CentralErrorBus: { image: CEB }, ServiceRegistry: { image: SR }, UnifiedObservabilityCenter: { image: UOC } },
    images: { CentralErrorBus: CEB, ServiceRegistry: SR, UnifiedObservabilityCenter: UOC },
  };
  /** A state as the engine writes it, cut down to what the rule reads: URNs, inputs, outputs, dependencies. */
  const stateWith = (stackOutputs: unknown) => ({
    checkpoint: {
      latest: {
        resources: [
          { urn: "urn:pulumi:local::fleet::pulumi:pulumi:Stack::fleet-local", type: "pulumi:pulumi:Stack", outputs: stackOutputs },
          // The stack's ports (every report waits for them).
          { urn: ports, type: "fleet:containers:StackPorts", inputs: {} },
          { urn: urn("fleet:containers:StackPorts$docker:index/container:Container", "fleet-ports-container"), type: "docker:index/container:Container", parent: ports, inputs: {} },
          { urn: portsStarted, type: "pulumi-nodejs:dynamic/fleet:ContainerStarted", parent: ports, inputs: {} },
          ...SLUGS.flatMap((slug, i) => {
            const image = [CEB, SR, UOC][i];
            const component = urn("fleet:containers:ServiceContainer", `fleet-${slug}`);
            return [
              { urn: urn("fleet:images:ServiceImage", `fleet-${slug}`), type: "fleet:images:ServiceImage", inputs: {}, outputs: { ref: image } },
              { urn: urn("fleet:images:ServiceImage$docker-build:index:Image", `fleet-${slug}-image`), type: "docker-build:index:Image", inputs: { tags: [`127.0.0.1:5000/fleet/${slug}:abc`] } },
              { urn: component, type: "fleet:containers:ServiceContainer", inputs: {} },
              { urn: urn("fleet:containers:ServiceContainer$docker:index/remoteImage:RemoteImage", `fleet-${slug}-pull`), type: "docker:index/remoteImage:RemoteImage", parent: component, inputs: { name: image } },
              { urn: container(slug), type: "docker:index/container:Container", parent: component, inputs: { labels: [{ label: "dev.fleet.image", value: image }] }, dependencies: [urn("fleet:containers:ServiceContainer$docker:index/remoteImage:RemoteImage", `fleet-${slug}-pull`)] },
              { urn: urn("fleet:containers:ServiceContainer$pulumi-nodejs:dynamic/fleet:ContainerStarted", `fleet-${slug}-started`), type: "pulumi-nodejs:dynamic/fleet:ContainerStarted", parent: component, inputs: {}, propertyDependencies: { containerId: [container(slug)] } },
              // Every report waits for the ObservabilityCenter's container.
              { urn: urn("pulumi-nodejs:dynamic/fleet:InventoryReport", `fleet-${slug}-report`), type: "pulumi-nodejs:dynamic/fleet:InventoryReport", inputs: { image }, dependencies: [container(slug), container("unified-observability-center"), portsStarted] },
            ];
          }),
        ],
      },
    },
  });
  const names = (urns: readonly string[]) => urns.map((u) => u.split("::").pop()).sort();

  it("targets what runs the service's image and what depends on it, and carries the outputs and the image last built", () => {
    const plan = partialUpdateOf(stateWith(outputs), ["CentralErrorBus"]);
    assert.ok(plan);
    assert.deepEqual(names(plan.targets), ["fleet-central-error-bus-container", "fleet-central-error-bus-pull", "fleet-central-error-bus-report", "fleet-central-error-bus-started"]);
    assert.deepEqual(plan.update, { services: ["CentralErrorBus"], outputs, built: { CentralErrorBus: CEB } });
  });

  it("is the whole program when another service's resource depends on a target: every report waits for the ObservabilityCenter", () => {
    assert.equal(partialUpdateOf(stateWith(outputs), ["UnifiedObservabilityCenter"]), undefined);
  });

  it("is the whole program when a service runs nothing yet, or the outputs are missing or hold a secret", () => {
    assert.equal(partialUpdateOf(stateWith(outputs), ["CentralErrorBus", "MemoryFusionHub"]), undefined);
    assert.equal(partialUpdateOf(stateWith(undefined), ["CentralErrorBus"]), undefined);
    const secret = { ...outputs, families: { "family-web": { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "x" } } };
    assert.equal(partialUpdateOf(stateWith(secret), ["CentralErrorBus"]), undefined);
  });
});
