import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { FleetInputError } from "../../errors";
import { must, run } from "../../proc";
import YAML from "yaml";
import { decodeStackConfig, readStackConfig, renderFleet, resolveStack, STACK_KEYS } from "../../stack";
import { runProgram } from "../support/mocks";
import { PINNED_BASE, REPO, tempProject } from "../support/project";

/** A stack file with `lines` (`fleet:key: value`) replacing its own settings of those keys or added. */
function stackWith(stack: string, ...lines: string[]): string {
  let text = fs.readFileSync(path.join(REPO, `Pulumi.${stack}.yaml`), "utf8");
  for (const line of lines) {
    const key = line.slice(0, line.indexOf(":", "fleet:".length));
    const re = new RegExp(`^  ${key}:.*(\\n    .*)*$`, "m");
    text = re.test(text) ? text.replace(re, `  ${line}`) : text.replace(/^config:\n/m, `config:\n  ${line}\n`);
  }
  return text;
}
const localWith = (...lines: string[]) => stackWith("local", ...lines);
/** Resolving the local stack of a temp project with `extra` config lines must fail with `re`. */
function rejects(re: RegExp, ...extra: string[]) {
  const dir = tempProject({ "Pulumi.local.yaml": localWith(...extra) });
  assert.throws(() => resolveStack(dir, "local"), (e: unknown) => {
    assert.ok(e instanceof FleetInputError, `expected a FleetInputError, got ${e}`);
    assert.match(e.message, re);
    return true;
  });
}

describe("stacks", () => {
  it("apply Pulumi.yaml defaults the way the engine does", () => {
    const { raw } = readStackConfig(tempProject(), "pc2");
    assert.equal(raw.healthTimeoutSeconds, "120");
    assert.equal(raw.cpuOnly, "false");
    assert.equal(raw.services, JSON.stringify({ phases: ["4.2", "4.3", "4.4"] }));
  });

  it("are declared in Pulumi.yaml, every fleet setting with a description and a default", () => {
    const project = YAML.parse(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8"));
    assert.deepEqual(Object.keys(project.config).sort(), Object.keys(STACK_KEYS).sort());
    for (const [key, decl] of Object.entries<any>(project.config)) {
      assert.ok(decl.description && decl.default !== undefined, key);
      assert.equal(decl.type, undefined, `${key}: no engine-side type, so one validator speaks`);
    }
  });

  it("decode engine values: integers, booleans and mappings", () => {
    const c = decodeStackConfig({ machine: "local", profile: "local", registry: "r:5000/f", baseImage: PINNED_BASE, cpuOnly: "true", dockerHost: "unix:///x", builder: "b", locks: "cpu", bindAddress: "127.0.0.1", publishAllInterfaces: "false", defaultSource: "examples", healthTimeoutSeconds: "30", buildOnPreview: "false", retainVolumes: "true", scanSeverity: "HIGH", scanFailOnUnfixed: "false", images: "{}" }, "Pulumi.t.yaml");
    assert.equal(c.cpuOnly, true);
    assert.equal(c.healthTimeoutSeconds, 30);
    assert.deepEqual(c.images, {});
  });

  describe("render", () => {
    it("shows mainpc's nine services with the 4090 profile and GPUs for the three GPU services", () => {
      const out = renderFleet(resolveStack(tempProject(), "mainpc")) as any;
      assert.equal(out.machine, "mainpc");
      assert.equal(out.services.length, 9);
      assert.deepEqual(out.services.filter((s: any) => s.gpu).map((s: any) => s.name).sort(), ["AffectiveProcessingCenter", "ModelOpsCoordinator", "RealTimeAudioPipeline"]);
      // Each uvicorn worker of a GPU service would hold a CUDA context of its own: one worker.
      for (const s of out.services) assert.equal(s.env.UVICORN_WORKERS, s.needsGpu ? "1" : "32", s.name);
      assert.deepEqual(out.families.map((f: any) => f.name), ["base-cpu-pydeps", "family-cpu-pydeps", "family-web", "family-torch-cu121", "family-llm-cu121"]);
      assert.equal(out.families.find((f: any) => f.name === "family-torch-cu121").lock, "requirements/family-torch-cu121.lock");
    });

    it("shows pc2's five services, CentralErrorBus among them, with the 3060 profile", () => {
      const out = renderFleet(resolveStack(tempProject(), "pc2")) as any;
      assert.deepEqual(out.services.map((s: any) => s.name).sort(), ["CentralErrorBus", "MemoryFusionHub", "RealTimeAudioPipeline", "SelfHealingSupervisor", "UnifiedObservabilityCenter"]);
      const audio = out.services.find((s: any) => s.name === "RealTimeAudioPipeline");
      assert.deepEqual([audio.gpu, audio.gpuDevices, audio.env.TORCH_CUDA_ALLOC_CONF, audio.env.MODEL_EVICT_THRESHOLD_PCT], [true, ["0"], "max_split_size_mb:32", "70"]);
      assert.ok(!out.families.some((f: any) => f.name === "family-llm-cu121"), "pc2 runs nothing on family-llm-cu121, so does not build it");
    });

    it("shows local's ten services on CPU with the light locks and the base from .fleet/base-image.ref", () => {
      const out = renderFleet(resolveStack(tempProject(), "local")) as any;
      assert.equal(out.services.length, 10);
      assert.ok(out.services.every((s: any) => s.gpu === false));
      assert.equal(out.baseImage, PINNED_BASE);
      assert.equal(out.families.find((f: any) => f.name === "family-llm-cu121").lock, "requirements/family-llm-cu121.cpu.lock");
    });

    it("narrows services by phase and name, and runs forced images without building them", () => {
      const forced = `127.0.0.1:5000/fleet/central-error-bus@sha256:${"cd".repeat(32)}`;
      const dir = tempProject({ "Pulumi.local.yaml": localWith('fleet:services: { phases: ["4.1"], names: ["CentralErrorBus"] }', `fleet:images: { CentralErrorBus: "${forced}" }`) });
      const out = renderFleet(resolveStack(dir, "local")) as any;
      assert.deepEqual(out.services.map((s: any) => s.name), ["ServiceRegistry", "SystemDigitalTwin", "UnifiedSystemAgent", "CentralErrorBus"]);
      assert.deepEqual(out.services[3].image, { pinned: forced });
      assert.deepEqual(out.families.map((f: any) => f.name), ["base-cpu-pydeps", "family-web"]);
    });

    it("shows a fresh clone's home stack, whose base is not made yet, and names the command that makes it", () => {
      // The committed Pulumi.mainpc.yaml as a fresh clone has it: no fleet:baseImage yet.
      const dir = tempProject({ "Pulumi.mainpc.yaml": fs.readFileSync(path.join(REPO, "Pulumi.mainpc.yaml"), "utf8") });
      const out = renderFleet(resolveStack(dir, "mainpc")) as any;
      assert.equal(out.services.length, 9);
      assert.equal(out.baseImage, null);
      assert.match(out.baseMissing, /^no base image is pinned yet \(fleet:baseImage in Pulumi\.mainpc\.yaml\); run `npm run fleet -- base --stack mainpc`/);
    });

    it("stops the program on a stack without a base before any resource, naming `fleet base`", async () => {
      const dir = tempProject({ "Pulumi.pc2.yaml": fs.readFileSync(path.join(REPO, "Pulumi.pc2.yaml"), "utf8") });
      await assert.rejects(runProgram("pc2", dir), /fleet: stack pc2: no base image is pinned yet \(fleet:baseImage in Pulumi\.pc2\.yaml\); run `npm run fleet -- base --stack pc2`.*nothing was changed/);
    });

    it("prints JSON from the command line and fails cleanly on an unknown stack", function () {
      this.timeout(60000);
      // A project whose mainpc base has been made (.fleet/base-image.mainpc.ref, as `fleet base` writes it).
      const ok = must("npx", ["ts-node", "--transpile-only", "scripts/render.ts", "mainpc"], { cwd: REPO, env: { ...process.env, FLEET_PROJECT_DIR: tempProject() } }).stdout;
      assert.equal(JSON.parse(ok).services.length, 9);
      const bad = run("npx", ["ts-node", "--transpile-only", "scripts/render.ts", "mainpc3"], { cwd: REPO });
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /^fleet: stack mainpc3 is not valid:\n  Pulumi\.mainpc3\.yaml: no such stack file; known stacks: .*local.*mainpc.*pc2/);
      assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/, "no stack trace");
    });
  });

  describe("rejects", () => {
    it("a value of the wrong type", () => rejects(/Pulumi\.local\.yaml: fleet:healthTimeoutSeconds: must be a whole number from 10 to 3600; got "soon"/, "fleet:healthTimeoutSeconds: soon"));
    it("a value out of range", () => rejects(/fleet:healthTimeoutSeconds: must be a whole number from 10 to 3600; got 5/, "fleet:healthTimeoutSeconds: 5"));
    it("a missing key", () => {
      const dir = tempProject({ "Pulumi.local.yaml": localWith().replace(/^\s*fleet:registry:.*$/m, "") });
      assert.throws(() => resolveStack(dir, "local"), /Pulumi\.local\.yaml: fleet:registry: is required/);
    });
    it("an unknown setting, listing the known ones", () => rejects(/fleet:profle: is not a fleet setting; known settings: fleet:machine, fleet:profile/, "fleet:profle: pc2"));
    it("an unknown machine", () => rejects(/fleet:machine: must be one of mainpc, pc2, local; got "pc3"/, "fleet:machine: pc3"));
    it("an unknown service", () => rejects(/fleet:services\.names\[0\]: is not a service; known: ServiceRegistry.*; got "Registry"/, 'fleet:services: { names: ["Registry"] }'));
    it("a service not placed on the machine", () => {
      const dir = tempProject({ "Pulumi.pc2.yaml": stackWith("pc2", 'fleet:services: { names: ["ModelOpsCoordinator"] }') });
      assert.throws(() => resolveStack(dir, "pc2"), /fleet:services\.names\[0\]: ModelOpsCoordinator is placed on mainpc, not on pc2/);
    });
    it("an unknown plan phase", () => rejects(/fleet:services\.phases\[0\]: is not a phase of the plan; known: 4\.1, 4\.2, 4\.3, 4\.4; got "9"/, 'fleet:services: { phases: ["9"] }'));
    it("an image override for an unknown service", () => rejects(/fleet:images\.Nope: is not a service/, `fleet:images: { Nope: "${PINNED_BASE}" }`));
    it("a base image not pinned by digest", () => {
      const dir = tempProject({ "Pulumi.local.yaml": localWith().replace(/fleet:baseImageFile:.*/, "fleet:baseImage: 127.0.0.1:5000/fleet/debian-bookworm:latest") });
      assert.throws(() => resolveStack(dir, "local"), /fleet:baseImage: must be pinned by digest: host\[:port\]\/repo\[:tag\]@sha256:<64 hex digits>; got "127\.0\.0\.1:5000\/fleet\/debian-bookworm:latest"/);
    });
    it("a base image file that holds no pinned reference", () => {
      const dir = tempProject({ ".fleet/base-image.ref": "debian:bookworm\n" });
      assert.throws(() => resolveStack(dir, "local"), /\.fleet\/base-image\.ref: must hold one image reference pinned by digest.*got "debian:bookworm"/);
    });
    it("a missing base image file, saying how to make it", () => {
      const dir = tempProject();
      fs.rmSync(path.join(dir, ".fleet"), { recursive: true });
      assert.throws(() => resolveStack(dir, "local"), /fleet:baseImageFile: \.fleet\/base-image\.ref does not exist; run `npm run infra`/);
    });
    it("an image override not pinned by digest", () => rejects(/fleet:images\.CentralErrorBus: must be pinned by digest/, "fleet:images: { CentralErrorBus: r:5000/x:prev }"));
    it("a GPU service on a GPU-less profile unless the stack is CPU-only", () => {
      rejects(/ModelOpsCoordinator needs a GPU \(family family-llm-cu121\) but profiles\/local\.json lists none in machine\.gpus; set fleet:cpuOnly: true/, "fleet:cpuOnly: false");
    });
    it("more memory than the machine has", () => {
      const dir = tempProject({ "profiles/local.json": fs.readFileSync(path.join(REPO, "profiles/local.json"), "utf8").replace('"memoryMiB": 8192', '"memoryMiB": 2048') });
      assert.throws(() => resolveStack(dir, "local"), /profiles\/local\.json: limits: the 10 services of stack local need 3328 MiB together, more than machine\.memoryMiB \(2048\)/);
    });
    it("a profile with a bad value, naming the profile file", () => {
      const dir = tempProject({ "profiles/local.json": fs.readFileSync(path.join(REPO, "profiles/local.json"), "utf8").replace('"UVICORN_WORKERS": 1', '"UVICORN_WORKERS": 0') });
      assert.throws(() => resolveStack(dir, "local"), /profiles\/local\.json: env\.UVICORN_WORKERS: must be a whole number from 1 to 256; got 0$/);
    });
    it("unparseable YAML, naming the file and line", () => {
      const dir = tempProject({ "Pulumi.local.yaml": "config:\n  fleet:machine: [local\n" });
      assert.throws(() => resolveStack(dir, "local"), /Pulumi\.local\.yaml: line \d+: is not valid YAML/);
    });
    it("a source directory that does not exist", () => rejects(/fleet:sources\.CentralErrorBus: must be an existing directory.*got "services\/ceb"/, "fleet:sources: { CentralErrorBus: services/ceb }"));
    it("publishing on every interface without the opt-in", () => rejects(/fleet:bindAddress: 0\.0\.0\.0 publishes every service on every interface of the host; set the machine's LAN address \(or 127\.0\.0\.1\), or set fleet:publishAllInterfaces: true to accept that; got "0\.0\.0\.0"/, "fleet:bindAddress: 0.0.0.0"));
    it("a pin for a service the machine does not run", () => {
      const pin = `127.0.0.1:5000/fleet/central-error-bus@sha256:${"cd".repeat(32)}`;
      const dir = tempProject({ "Pulumi.mainpc.yaml": fs.readFileSync(path.join(REPO, "Pulumi.mainpc.yaml"), "utf8").replace("fleet:images: {}", `fleet:images: { CentralErrorBus: "${pin}" }`) });
      assert.throws(() => resolveStack(dir, "mainpc"), /Pulumi\.mainpc\.yaml: fleet:images\.CentralErrorBus: CentralErrorBus is placed on pc2, not on mainpc, so this stack never runs it; services of mainpc: ServiceRegistry, /);
    });
    it("a source for a service the machine neither runs nor builds; mainpc, which builds the catalog, may set CentralErrorBus's", () => {
      const ceb = "services/ceb";
      const withSource = (buildCatalog: string) =>
        tempProject({
          "Pulumi.mainpc.yaml": fs.readFileSync(path.join(REPO, "Pulumi.mainpc.yaml"), "utf8").replace('fleet:buildCatalog: "true"', `fleet:buildCatalog: "${buildCatalog}"`) + `  fleet:sources: { CentralErrorBus: ${ceb} }\n`,
          [`${ceb}/requirements.lock`]: "",
          [`${ceb}/app/__main__.py`]: "",
        });
      const mainpc = resolveStack(withSource("true"), "mainpc");
      assert.equal(mainpc.imagesOnly.find((s) => s.name === "CentralErrorBus")?.source, ceb, "mainpc builds CentralErrorBus from its source");
      assert.throws(() => resolveStack(withSource("false"), "mainpc"), /Pulumi\.mainpc\.yaml: fleet:sources\.CentralErrorBus: CentralErrorBus is placed on pc2, not on mainpc, so this stack never runs it.*\(a stack with fleet:buildCatalog: true may set the source of every service it builds\)/);
    });
    it("an allocator setting torch cannot parse, naming the option", () => {
      const bad = (conf: string) => tempProject({ "profiles/local.json": fs.readFileSync(path.join(REPO, "profiles/local.json"), "utf8").replace('"max_split_size_mb:32"', JSON.stringify(conf)) });
      assert.throws(() => resolveStack(bad("max_split_size_mb:lots"), "local"), /profiles\/local\.json: env\.TORCH_CUDA_ALLOC_CONF: max_split_size_mb must be a whole number of MB above 20; got "lots"; got "max_split_size_mb:lots"$/);
      assert.throws(() => resolveStack(bad("max_split_size_mb:16"), "local"), /max_split_size_mb must be a whole number of MB above 20; got "16"/);
      assert.throws(() => resolveStack(bad("max_split:64"), "local"), /torch knows no allocator option "max_split"; known: max_split_size_mb, /);
      assert.throws(() => resolveStack(bad("expandable_segments:yes"), "local"), /expandable_segments must be True or False; got "yes"/);
      resolveStack(bad("max_split_size_mb:128,garbage_collection_threshold:0.6,roundup_power2_divisions:[256:1,512:2,>:4],expandable_segments:True"), "local");
    });
    it("a source folder without what the service Dockerfile builds", () => {
      const dir = tempProject({ "services/ceb/README.md": "no app here\n" });
      fs.appendFileSync(path.join(dir, "Pulumi.local.yaml"), "");
      const text = fs.readFileSync(path.join(dir, "Pulumi.local.yaml"), "utf8").replace(/^config:\n/m, "config:\n  fleet:sources: { CentralErrorBus: services/ceb }\n");
      fs.writeFileSync(path.join(dir, "Pulumi.local.yaml"), text);
      assert.throws(() => resolveStack(dir, "local"), /fleet:sources\.CentralErrorBus: must hold what dockerfiles\/service\.Dockerfile builds, but requirements\.lock and app\/__main__\.py are missing/);
    });
    it("every problem at once, not only the first", () => {
      const dir = tempProject({ "Pulumi.local.yaml": localWith("fleet:healthTimeoutSeconds: 5", "fleet:bindAddress: every") });
      assert.throws(() => resolveStack(dir, "local"), (e: FleetInputError) => e.problems.length === 2);
    });
  });
});
