import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { fakeDigest, Registered, recordResources, runProgram } from "../support/mocks";
import { HOME_BASE, PINNED_BASE, REPO, tempProject } from "../support/project";
import { DYNAMIC, dynamicType, TYPES } from "../../contract";
import { STAGE_ROOT } from "../../source/stage";

/** What one stack registers, found by type and name. */
interface Graph {
  readonly all: Registered[];
  readonly of: (type: string) => Registered[];
  readonly named: (type: string, suffix: string) => Registered;
  /** The services' containers: every container but the stack's ports. */
  readonly services: () => Registered[];
  readonly outputs: { services: Record<string, any>; families: Record<string, string>; images: Record<string, string> };
}

const IMAGE = "docker-build:index:Image";
const CONTAINER = "docker:index/container:Container";
/** The stack's ports' container (components/stackPorts.ts). */
const PORTS = "fleet-ports-container";
const profileEnv = (name: string) => Object.fromEntries(Object.entries(JSON.parse(fs.readFileSync(path.join(REPO, "profiles", `${name}.json`), "utf8")).env).map(([k, v]) => [k, String(v)]));

/** Runs the program for `stack` under mocks, and returns what it registered. */
async function graphOf(stack: string, projectDir = tempProject(), stackOutputs: Record<string, Record<string, unknown>> = {}): Promise<Graph> {
  const { registered, outputs } = await runProgram(stack, projectDir, stackOutputs);
  const of = (type: string) => registered.filter((r) => r.type === type);
  const named = (type: string, suffix: string) => {
    const hit = of(type).find((r) => r.name.endsWith(suffix));
    assert.ok(hit, `no ${type} named *${suffix}; have ${of(type).map((r) => r.name).join(", ")}`);
    return hit;
  };
  const services = () => of(CONTAINER).filter((r) => r.name !== PORTS);
  return { all: registered, of, named, services, outputs };
}

describe("the resource graph", function () {
  this.timeout(60000);
  const graphs: Record<string, Graph> = {};
  before(async () => {
    for (const stack of ["mainpc", "local"]) graphs[stack] = await graphOf(stack);
    // pc2 reads mainpc's images output through its StackReference (fleet:imagesFrom).
    graphs.pc2 = await graphOf("pc2", tempProject(), { "organization/fleet/mainpc": { images: graphs.mainpc.outputs.images, families: graphs.mainpc.outputs.families } });
  });

  for (const [stack, count] of [["mainpc", 9], ["pc2", 5], ["local", 10]] as const) {
    it(`${stack}: one container per service placed on the machine, the stack's ports, and nothing else`, () => {
      const containers = graphs[stack].of(CONTAINER);
      assert.equal(containers.length, count + 1);
      assert.equal(graphs[stack].services().length, count);
      assert.equal(Object.keys(graphs[stack].outputs.services).length, count);
      assert.equal(graphs[stack].of("docker:index/network:Network").length, 1);
    });

    it(`${stack}: every container's environment equals its profile's settings, with one worker for a GPU service`, () => {
      for (const c of graphs[stack].services()) {
        const gpuService = /model-ops|affective|real-time-audio/.test(c.name);
        const want = { ...profileEnv(stack), ...(gpuService ? { UVICORN_WORKERS: "1" } : {}) };
        const env = Object.fromEntries((c.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
        for (const [k, v] of Object.entries(want)) assert.equal(env[k], v, `${c.name}: ${k}`);
        assert.match(env.HEALTH_PORT, /^\d+$/);
      }
    });
  }

  it("builds each service image FROM its own family, by digest", () => {
    const g = graphs.mainpc;
    const familyRef = (family: string) => `registry.home.arpa:5000/fleet/${family}@${fakeDigest(`fleet-${family}-image`)}`;
    assert.equal(g.named(IMAGE, "model-ops-coordinator-image").inputs.buildArgs.FAMILY, familyRef("family-llm-cu121"));
    assert.equal(g.named(IMAGE, "affective-processing-center-image").inputs.buildArgs.FAMILY, familyRef("family-torch-cu121"));
    assert.equal(g.named(IMAGE, "memory-fusion-hub-image").inputs.buildArgs.FAMILY, familyRef("family-cpu-pydeps"));
    assert.equal(g.named(IMAGE, "service-registry-image").inputs.buildArgs.FAMILY, familyRef("family-web"));
    assert.equal(g.named(IMAGE, "system-digital-twin-image").inputs.buildArgs.FAMILY, familyRef("base-cpu-pydeps"));
  });

  it("builds the family tree: the root FROM the pinned base, each family FROM its parent by digest", () => {
    const g = graphs.mainpc;
    assert.match(g.named(IMAGE, "fleet-base-cpu-pydeps-image").inputs.buildArgs.BASE, /^registry\.home\.arpa:5000\/fleet\/debian-bookworm@sha256:[0-9a-f]{64}$/);
    assert.equal(g.named(IMAGE, "fleet-family-llm-cu121-image").inputs.buildArgs.BASE, `registry.home.arpa:5000/fleet/family-torch-cu121@${fakeDigest("fleet-family-torch-cu121-image")}`);
    assert.equal(g.named(IMAGE, "fleet-family-web-image").inputs.buildArgs.BASE, `registry.home.arpa:5000/fleet/base-cpu-pydeps@${fakeDigest("fleet-base-cpu-pydeps-image")}`);
    assert.equal(graphs.local.named(IMAGE, "fleet-base-cpu-pydeps-image").inputs.buildArgs.BASE, PINNED_BASE);
  });

  it("pushes every image tagged by its inputs digest, with registry cache and OCI labels, and never builds on preview", () => {
    for (const img of graphs.mainpc.of(IMAGE)) {
      // One exporter, the registry push with rewritten timestamps; docker-build's `push` would add a
      // second. Over plain HTTP: the engine (runProgram's fixture) trusts the home registry so.
      assert.equal(img.inputs.push, false);
      assert.deepEqual(img.inputs.exports, [{ raw: `type=image,name=${img.inputs.tags[0]},push=true,rewrite-timestamp=true,oci-mediatypes=true,registry.insecure=true` }]);
      assert.equal(img.inputs.buildOnPreview, false);
      assert.equal(img.inputs.builder.name, "fleet");
      assert.match(img.inputs.tags[0], /^registry\.home\.arpa:5000\/fleet\/[a-z0-9-]+:src-[0-9a-f]{12}$/);
      assert.match(img.inputs.labels["dev.fleet.inputs"], /^[0-9a-f]{64}$/);
      assert.equal(img.inputs.tags[0].slice(-12), img.inputs.labels["dev.fleet.inputs"].slice(0, 12), `${img.name}: the tag names the inputs`);
      assert.equal(img.inputs.buildArgs.SOURCE_DATE_EPOCH, "946684800", `${img.name}: one fixed epoch`);
      assert.match(img.inputs.cacheFrom[0].registry.ref, /:buildcache$/);
      assert.equal(img.inputs.cacheTo[0].registry.mode, "max");
      assert.ok(img.inputs.labels["org.opencontainers.image.source"], `${img.name}: label org.opencontainers.image.source`);
      for (const l of ["org.opencontainers.image.revision", "org.opencontainers.image.created"]) assert.equal(img.inputs.labels[l], undefined, `${img.name}: no commit or commit time in the image (${l})`);
      // By a staged path named by its content: no checkout path in the inputs, no text in the state.
      assert.equal(img.inputs.dockerfile.inline, undefined, `${img.name}: no Dockerfile text in the state`);
      assert.ok(img.inputs.dockerfile.location.startsWith(STAGE_ROOT + path.sep), `${img.name}: Dockerfile at ${img.inputs.dockerfile.location}`);
    }
  });

  it("gives every dynamic resource the one line that names its provider in the project, and that provider exists", () => {
    const dynamic = graphs.local.all.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
    assert.deepEqual([...new Set(dynamic.map((r) => r.type))].sort(), Object.values(DYNAMIC).map(dynamicType).sort());
    for (const r of dynamic) {
      const [, file, exportName] = /m\.provider\("([^"]+)","([^"]+)"\)\}$/.exec(r.inputs.__provider) ?? [];
      assert.ok(file, `${r.name}: __provider is ${String(r.inputs.__provider).slice(0, 80)}...`);
      assert.equal(typeof require(path.join(REPO, file))[exportName]?.create, "function", `${r.name}: ${file}.ts exports ${exportName}`);
    }
  });

  it("uses the light CPU locks for GPU families on local and the CUDA ones on mainpc", () => {
    assert.equal(graphs.local.named(IMAGE, "fleet-family-torch-cu121-image").inputs.buildArgs.LOCK, "requirements/family-torch-cu121.cpu.lock");
    assert.equal(graphs.mainpc.named(IMAGE, "fleet-family-torch-cu121-image").inputs.buildArgs.LOCK, "requirements/family-torch-cu121.lock");
    assert.equal(graphs.local.named(IMAGE, "fleet-family-web-image").inputs.buildArgs.LOCK, "requirements/family-web.lock");
  });

  it("requests the profile's GPU for GPU services on mainpc and pc2, and none elsewhere", () => {
    for (const stack of ["mainpc", "pc2", "local"]) {
      for (const c of graphs[stack].services()) {
        const gpuService = /model-ops|affective|real-time-audio/.test(c.name);
        const requests = c.inputs.deviceRequests;
        if (gpuService && stack !== "local") assert.deepEqual(requests, [{ driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] }], c.name);
        else assert.equal(requests, undefined, `${stack} ${c.name} must not get a GPU`);
      }
    }
  });

  it("runs each container by the pushed repo@sha256 it was built as", () => {
    const g = graphs.pc2;
    const ref = `registry.home.arpa:5000/fleet/central-error-bus@${fakeDigest("fleet-central-error-bus-image")}`;
    assert.equal(g.named("docker:index/remoteImage:RemoteImage", "central-error-bus-pull").inputs.name, ref);
    assert.equal(g.outputs.services.CentralErrorBus.image, ref);
    assert.equal(g.outputs.services.CentralErrorBus.digest, fakeDigest("fleet-central-error-bus-image"));
    assert.equal(g.named(CONTAINER, "central-error-bus-container").inputs.image, fakeDigest(`${ref}-id`));
    assert.equal(g.outputs.services.CentralErrorBus.healthUrl, "http://192.168.1.30:8150/health", "on the LAN address pc2 publishes on");
  });

  it("mainpc builds every image of the catalog once, CentralErrorBus too, and exports them all", () => {
    const g = graphs.mainpc;
    assert.equal(g.of(IMAGE).length, 15);
    assert.equal(g.of(IMAGE).filter((i) => i.name.includes("central-error-bus")).length, 1);
    assert.deepEqual(Object.keys(g.outputs.images).sort(), ["AffectiveProcessingCenter", "CentralErrorBus", "MemoryFusionHub", "ModelOpsCoordinator", "RealTimeAudioPipeline", "SelfHealingSupervisor", "ServiceRegistry", "SystemDigitalTwin", "UnifiedObservabilityCenter", "UnifiedSystemAgent"]);
    assert.equal(g.services().length, 9, "builds CentralErrorBus but does not run it");
  });

  it("pc2 builds nothing: it reads mainpc's images through one StackReference and runs those digests", () => {
    const g = graphs.pc2;
    assert.equal(g.of(IMAGE).length, 0);
    const refs = g.of("pulumi:pulumi:StackReference");
    assert.deepEqual(refs.map((r) => r.inputs.name), ["organization/fleet/mainpc"]);
    assert.equal(Object.keys(g.outputs.services).length, 5);
    for (const [name, svc] of Object.entries(g.outputs.services)) {
      assert.equal(svc.image, graphs.mainpc.outputs.images[name], name);
      if (graphs.mainpc.outputs.services[name]) assert.equal(svc.image, graphs.mainpc.outputs.services[name].image, `${name} runs the same digest on both machines`);
    }
    assert.deepEqual(g.outputs.images, Object.fromEntries(Object.keys(g.outputs.services).map((n) => [n, graphs.mainpc.outputs.images[n]])));
  });

  it("pc2 whose images stack has no image for a service fails, naming both stacks and what to run", async () => {
    const images = { ...graphs.mainpc.outputs.images };
    delete images.CentralErrorBus;
    recordResources("pc2", { "organization/fleet/mainpc": { images } });
    const { StackImages } = await import("../../components/stackImages");
    const from = new StackImages("t", "organization/fleet/mainpc", {});
    // Output.promise() is the SDK's own way to await an output; a throw in apply rejects it.
    await assert.rejects((from.ref("CentralErrorBus") as any).promise(), /^Error: fleet:imagesFrom organization\/fleet\/mainpc exports no image for CentralErrorBus \(it has AffectiveProcessingCenter, .*UnifiedSystemAgent\); run `pulumi up` on organization\/fleet\/mainpc first, with fleet:buildCatalog: true so that it builds every service of the catalog$/);
    assert.equal(await (from.ref("MemoryFusionHub") as any).promise(), images.MemoryFusionHub);
  });

  it("applies the CIS 5.x container settings to every container, the stack's ports too", () => {
    for (const stack of ["mainpc", "local"]) {
      for (const { name, inputs: c } of graphs[stack].of(CONTAINER)) {
        const why = `${stack} ${name}`;
        assert.equal(c.user, "10001:10001", why);
        assert.equal(c.readOnly, true, why);
        assert.deepEqual(c.capabilities, { drops: ["ALL"] }, why);
        assert.deepEqual(c.securityOpts, ["no-new-privileges:true"], why);
        assert.equal(c.restart, "unless-stopped", `${why}: back after an engine restart even when it exited 0 on SIGTERM`);
        assert.ok(c.memory > 0 && c.memorySwap === c.memory, why);
        assert.ok(c.cpuShares > 0, why);
        // The update waits for the container's first healthy answer with its own probe, at its start.
        const started = graphs[stack].named(TYPES.containerStarted, name.replace(/-container$/, "-started")).inputs;
        assert.deepEqual(started.probe, c.healthcheck.tests.slice(1), why);
        assert.ok(started.timeoutSeconds > 0 && started.limit > 0, why);
        assert.equal(c.privileged, undefined, why);
        assert.equal(c.networkMode, undefined, `${why}: no host network`);
        assert.equal(c.pidMode ?? c.ipcMode ?? c.utsMode, undefined, why);
        assert.deepEqual(c.networksAdvanced.map((n: any) => n.name), [`fleet-${stack}`], why);
        assert.ok((c.volumes ?? []).every((v: any) => v.volumeName && !v.hostPath), `${why}: named volumes only, no host mounts`);
        const labels = Object.fromEntries(c.labels.map((l: any) => [l.label, l.value]));
        assert.equal(labels["dev.fleet.stack"], stack, why);
      }
      for (const { name, inputs: c } of graphs[stack].services()) {
        const why = `${stack} ${name}`;
        assert.ok(c.tmpfs["/tmp"], why);
        assert.ok(c.healthcheck.tests.join(" ").includes("/health"), why);
        assert.match(c.name, new RegExp(`^fleet-${stack}-[a-z-]+-[0-9a-f]{8}$`), `${why}: named from the stack, the service and its settings`);
        assert.equal(c.removeVolumes, false, why);
        assert.equal(c.envs.some((e: string) => e.startsWith("FLEET_INPUTS=")), false, `${why}: the inputs digest belongs to the image, so a pin to the running digest changes nothing`);
      }
    }
  });

  it("publishes every service's two ports on the bind address from the stack's ports only, each to the service's alias", () => {
    for (const stack of ["mainpc", "pc2", "local"]) {
      const bind = stack === "local" ? "127.0.0.1" : stack === "pc2" ? "192.168.1.30" : "192.168.1.20";
      const g = graphs[stack];
      const ports = g.named(CONTAINER, PORTS).inputs;
      const want = Object.values(g.outputs.services).flatMap((s: any) => [s.ports.service, s.ports.health]);
      assert.deepEqual(ports.ports.map((p: any) => p.external).sort(), [...want].sort(), `${stack}: every port of every service it runs, and no other`);
      for (const p of ports.ports) assert.ok(p.ip === bind && p.internal === p.external && p.external >= 1024, `${stack}: ${JSON.stringify(p)}`);
      assert.equal(ports.name, `fleet-${stack}-ports`);
      assert.deepEqual(Object.fromEntries(ports.labels.map((l: any) => [l.label, l.value]))["dev.fleet.role"], "ports");
      const routes = (ports.command as string[]).slice(3);
      for (const c of g.services()) {
        const slug = c.name.replace(/^fleet-/, "").replace(/-container$/, "");
        assert.equal(c.inputs.ports, undefined, `${stack} ${c.name}: no host port of its own, so a replacement can start next to it`);
        assert.deepEqual(c.inputs.networksAdvanced[0].aliases, [slug], `${stack} ${c.name}: the alias the stack's ports reach it by`);
        const own = Object.values(g.outputs.services).find((s: any) => s.container === c.inputs.name) as any;
        for (const port of [own.ports.service, own.ports.health]) assert.ok(routes.includes(`${port}=${slug}:${port}`), `${stack}: ${port} goes to ${slug}`);
      }
      assert.equal(routes.length, want.length);
    }
    // pc2 builds no family: its ports run the root family image mainpc exports.
    assert.equal(graphs.pc2.named("docker:index/remoteImage:RemoteImage", "fleet-ports-pull").inputs.name, graphs.mainpc.outputs.families["base-cpu-pydeps"]);
    assert.equal(graphs.local.named("docker:index/remoteImage:RemoteImage", "fleet-ports-pull").inputs.name, graphs.local.outputs.families["base-cpu-pydeps"]);
  });

  it("proves a new image healthy in a canary before the container that uses it", () => {
    const g = graphs.local;
    const canary = g.named("pulumi-nodejs:dynamic/fleet:HealthCanary", "central-error-bus-canary");
    const container = g.named(CONTAINER, "central-error-bus-container").inputs;
    assert.match(canary.inputs.image, /central-error-bus@sha256:/);
    assert.equal(canary.inputs.network, "fleet-local");
    assert.equal(canary.inputs.namePrefix, "fleet-local-canary-central-error-bus");
    assert.deepEqual(canary.inputs.labels, { "dev.fleet.stack": "local", "dev.fleet.machine": "local", "dev.fleet.service": "CentralErrorBus", "dev.fleet.role": "canary" });
    // The canary runs with the real container's settings, from the same RunSpec.
    const flag = (name: string) => canary.inputs.runFlags.flatMap((f: string, i: number) => (f === name ? [canary.inputs.runFlags[i + 1]] : []));
    assert.deepEqual(flag("--user"), [container.user]);
    assert.deepEqual(flag("--memory"), [`${container.memory}m`]);
    assert.deepEqual(flag("--cpu-shares"), [String(container.cpuShares)]);
    assert.deepEqual(flag("--pids-limit"), ["256"]);
    assert.deepEqual(flag("--env").sort(), [...container.envs].sort());
    assert.ok(canary.inputs.runFlags.includes("--read-only"));
    assert.deepEqual(flag("--mount"), ["type=volume,dst=/data"], "a data volume of its own");
  });

  it("runs the image a stack pins, and keeps the service's image in the graph with the same inputs", async () => {
    const forced = `127.0.0.1:5000/fleet/central-error-bus@sha256:${"cd".repeat(32)}`;
    const text = fs.readFileSync(path.join(REPO, "Pulumi.local.yaml"), "utf8").replace(/^config:\n/m, `config:\n  fleet:images: { CentralErrorBus: "${forced}" }\n`);
    const g = await graphOf("local", tempProject({ "Pulumi.local.yaml": text }));
    assert.equal(g.named("docker:index/remoteImage:RemoteImage", "central-error-bus-pull").inputs.name, forced);
    assert.equal(g.named("pulumi-nodejs:dynamic/fleet:HealthCanary", "central-error-bus-canary").inputs.image, forced);
    // The pin neither deletes the built image (nor its pushed tag) nor makes a release rebuild it.
    const image = (gr: typeof g) => gr.of(IMAGE).find((i) => i.name.includes("central-error-bus"));
    assert.ok(image(g), "the pinned service's image stays in the graph");
    assert.deepEqual(image(g)!.inputs, image(graphs.local)!.inputs, "with the inputs it has unpinned");
    assert.equal(g.of(IMAGE).length, graphs.local.of(IMAGE).length, "every family stays too");
    assert.equal(g.services().length, 10);
    // A replacement runs next to the container it replaces for a moment, so it has a name of its own;
    // a container whose settings did not change keeps its name.
    const names = (gr: typeof g) => Object.fromEntries(gr.services().map((c) => [c.name, c.inputs.name as string]));
    const [pinned, built] = [names(g), names(graphs.local)];
    for (const [urnName, name] of Object.entries(pinned)) {
      if (urnName.endsWith("central-error-bus-container")) assert.notEqual(name, built[urnName], "the pinned service's container is named anew");
      else assert.equal(name, built[urnName], `${urnName} keeps its name`);
    }
  });

  it("changes nothing of a container whose pin is the digest it runs already", async () => {
    const running = `127.0.0.1:5000/fleet/central-error-bus@${fakeDigest("fleet-central-error-bus-image")}`;
    assert.equal(graphs.local.outputs.services.CentralErrorBus.image, running);
    const text = fs.readFileSync(path.join(REPO, "Pulumi.local.yaml"), "utf8").replace(/^config:\n/m, `config:\n  fleet:images: { CentralErrorBus: "${running}" }\n`);
    const pinned = await graphOf("local", tempProject({ "Pulumi.local.yaml": text }));
    const inputsOf = (g: Graph) => g.all.filter((r) => r.name.includes("central-error-bus")).map((r) => [r.type, r.name, r.inputs]).sort((a, b) => (`${a[0]} ${a[1]}` < `${b[0]} ${b[1]}` ? -1 : 1));
    assert.deepEqual(inputsOf(pinned), inputsOf(graphs.local));
  });

  it("moves each service's :prev tag only after its container, from the image the container runs", () => {
    const g = graphs.local;
    const tags = g.of("pulumi-nodejs:dynamic/fleet:PrevTag");
    assert.equal(tags.length, 10);
    const tag = g.named("pulumi-nodejs:dynamic/fleet:PrevTag", "central-error-bus-prev");
    assert.equal(tag.inputs.tag, "prev");
    assert.equal(tag.inputs.image, g.named("docker:index/remoteImage:RemoteImage", "central-error-bus-pull").inputs.name);
  });

  describe("a partial update (fleet rollback of one service)", () => {
    const forced = `127.0.0.1:5000/fleet/central-error-bus@sha256:${"cd".repeat(32)}`;
    const pinnedStack = () => tempProject({ "Pulumi.local.yaml": fs.readFileSync(path.join(REPO, "Pulumi.local.yaml"), "utf8").replace(/^config:\n/m, `config:\n  fleet:images: { CentralErrorBus: "${forced}" }\n`) });
    /** Runs the program for `stack` with FLEET_PARTIAL naming a file that holds `update`. */
    const partially = async (update: unknown, projectDir: string, stack = "local", stackOutputs: Record<string, Record<string, unknown>> = {}): Promise<Graph> => {
      const file = path.join(tempProject(), "partial.json");
      fs.writeFileSync(file, JSON.stringify(update));
      process.env.FLEET_PARTIAL = file;
      try {
        return await graphOf(stack, projectDir, stackOutputs);
      } finally {
        delete process.env.FLEET_PARTIAL;
      }
    };
    const update = () => ({ services: ["CentralErrorBus"], outputs: graphs.local.outputs, built: { CentralErrorBus: graphs.local.outputs.images.CentralErrorBus } });
    const ofService = (g: Graph) => g.all.filter((r) => r.name.includes("central-error-bus")).map((r) => [r.type, r.name, r.inputs]).sort((a, b) => (`${a[0]} ${a[1]}` < `${b[0]} ${b[1]}` ? -1 : 1));

    it("declares what runs the service on its pin, as the whole program does, and nothing of the other services or of any build", async () => {
      const projectDir = pinnedStack();
      const [whole, partial] = [await graphOf("local", projectDir), await partially(update(), projectDir)];
      assert.deepEqual(partial.of(IMAGE), [], "no image build");
      assert.deepEqual(partial.all.filter((r) => r.name.startsWith("fleet-") && !r.name.startsWith("fleet-central-error-bus")).map((r) => r.name), ["fleet-docker", "fleet-network"]);
      const running = (g: Graph) => ofService(g).filter(([type]) => type !== IMAGE && type !== TYPES.serviceImage);
      assert.deepEqual(ofService(partial), running(whole), "the same resources with the same inputs (the report's too)");
      assert.equal(partial.of(CONTAINER).length, 1);
    });

    it("does the same on a stack that builds no image and runs another stack's (pc2, fleet:imagesFrom)", async () => {
      const pin = `registry.home.arpa:5000/fleet/central-error-bus@sha256:${"cd".repeat(32)}`;
      const projectDir = tempProject({ "Pulumi.pc2.yaml": fs.readFileSync(path.join(REPO, "Pulumi.pc2.yaml"), "utf8").replace(/^  fleet:images: \{\}$/m, `  fleet:images: { CentralErrorBus: "${pin}" }`) + `  fleet:baseImage: ${HOME_BASE}\n` });
      const from = { "organization/fleet/mainpc": { images: graphs.mainpc.outputs.images, families: graphs.mainpc.outputs.families } };
      const [whole, partial] = [await graphOf("pc2", projectDir, from), await partially({ services: ["CentralErrorBus"], outputs: graphs.pc2.outputs, built: {} }, projectDir, "pc2", from)];
      assert.equal(whole.named("docker:index/remoteImage:RemoteImage", "central-error-bus-pull").inputs.name, pin);
      assert.deepEqual(ofService(partial), ofService(whole));
      assert.deepEqual(partial.of("pulumi:pulumi:StackReference"), [], "the images stack is not read");
      assert.equal(partial.outputs.images.CentralErrorBus, pin);
    });

    it("exports every other service's outputs as they were, and the moved service's anew", async () => {
      const g = await partially(update(), pinnedStack());
      const before = graphs.local.outputs;
      assert.deepEqual(Object.keys(g.outputs.services).sort(), Object.keys(before.services).sort());
      // (through JSON, as the update file carries them: keys the mocks leave undefined drop out)
      for (const name of Object.keys(before.services).filter((n) => n !== "CentralErrorBus")) assert.deepEqual(g.outputs.services[name], JSON.parse(JSON.stringify(before.services[name])), name);
      assert.equal(g.outputs.services.CentralErrorBus.image, forced);
      assert.deepEqual(g.outputs.images, { ...before.images, CentralErrorBus: forced });
      assert.deepEqual(g.outputs.families, before.families);
    });

    it("refuses to run a service that is not pinned, naming the variable, the file and the service", async () => {
      await assert.rejects(partially({ ...update(), services: ["ServiceRegistry"] }, pinnedStack()), (e: Error) =>
        /^fleet: stack local: the partial update is not valid; nothing was changed:\n  FLEET_PARTIAL=\/.*partial\.json: services\[0\]: must be pinned in fleet:images: a partial update builds nothing; got "ServiceRegistry"$/.test(e.message),
      );
    });
  });
});
