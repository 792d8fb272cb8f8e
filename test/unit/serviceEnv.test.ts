import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { FleetInputError } from "../../errors";
import { renderFleet, resolveStack } from "../../stack";
import { Registered, runProgram } from "../support/mocks";
import { REPO, tempProject } from "../support/project";

const CONTAINER = "docker:index/container:Container";
const CANARY = "pulumi-nodejs:dynamic/fleet:HealthCanary";
/** What `pulumi config set --secret` writes into a stack file (this ciphertext is never decrypted here). */
const SECURE = "v1:3Zc9YQ2n0AA=:v1:q8Cw7eOrv6u2n2Lk:cGxhY2Vob2xkZXI=";
/** The value the engine would decrypt it to: it must reach CentralErrorBus only, and only as a secret. */
const TOKEN = "tok-4f1d2c-not-for-anyone-else";

/** `stack`'s committed file with `yaml` (lines of the config mapping, indented two spaces) added. */
function stackWith(stack: string, yaml: string): string {
  return fs.readFileSync(path.join(REPO, `Pulumi.${stack}.yaml`), "utf8").replace(/^config:\n/m, `config:\n${yaml.replace(/^\n/, "")}`);
}

/** The rendered fleet of `stack` in a temp project whose stack file has `yaml` added. */
function render(stack: string, yaml: string): any {
  return renderFleet(resolveStack(tempProject({ [`Pulumi.${stack}.yaml`]: stackWith(stack, yaml) }), stack));
}

/** Resolving `stack` with `yaml` added must fail with a problem matching `re`, and never show `hidden`. */
function rejects(stack: string, re: RegExp, yaml: string, hidden?: string) {
  const dir = tempProject({ [`Pulumi.${stack}.yaml`]: stackWith(stack, yaml) });
  assert.throws(() => resolveStack(dir, stack), (e: unknown) => {
    assert.ok(e instanceof FleetInputError, `expected a FleetInputError, got ${e}`);
    assert.ok(e.problems.some((p) => re.test(p)), `no problem matches ${re}:\n${e.message}`);
    if (hidden) assert.ok(!e.message.includes(hidden), `the message shows ${hidden}`);
    return true;
  });
}

/** Registered inputs as JSON, with every secret replaced by [secret]: what a reader of state in plain text would see. */
function plainText(inputs: unknown): string {
  const blind = (v: unknown): unknown =>
    pulumi.runtime.isRpcSecret(v) ? "[secret]" : Array.isArray(v) ? v.map(blind) : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, blind(x)])) : v;
  return JSON.stringify(blind(inputs));
}

const envOf = (c: Registered): Record<string, string> => {
  const envs: string[] = pulumi.runtime.isRpcSecret(c.inputs.envs) ? pulumi.runtime.unwrapRpcSecret(c.inputs.envs) : c.inputs.envs;
  return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
};

describe("per-service environment, secrets and workers", function () {
  this.timeout(60000);

  describe("resolved (render)", () => {
    it("fleet:env changes every container's hardware env over the profile, and render shows it", () => {
      const out = render("pc2", "  fleet:env: { OMP_NUM_THREADS: 8, TORCH_CUDA_ALLOC_CONF: \"max_split_size_mb:48\" }\n");
      assert.deepEqual(out.env, { GPU_VISIBLE_DEVICES: "0", TORCH_CUDA_ALLOC_CONF: "max_split_size_mb:48", OMP_NUM_THREADS: "8", UVICORN_WORKERS: "8", MODEL_EVICT_THRESHOLD_PCT: "70" });
      for (const s of out.services) {
        assert.equal(s.env.OMP_NUM_THREADS, "8", s.name);
        assert.equal(s.env.TORCH_CUDA_ALLOC_CONF, "max_split_size_mb:48", s.name);
        assert.equal(s.env.MODEL_EVICT_THRESHOLD_PCT, "70", `${s.name}: the profile's, where fleet:env says nothing`);
      }
    });

    it("fleet:env takes numbers as text and GPU indexes as a number, as `pulumi config set` writes them", () => {
      const out = render("pc2", "  fleet:env:\n    OMP_NUM_THREADS: \"6\"\n    GPU_VISIBLE_DEVICES: 0\n");
      assert.equal(out.env.OMP_NUM_THREADS, "6");
      assert.deepEqual(out.services.find((s: any) => s.name === "RealTimeAudioPipeline").gpuDevices, ["0"]);
    });

    it("gives a GPU service one worker and the others the hardware env's UVICORN_WORKERS", () => {
      const out = render("mainpc", "  fleet:env: { UVICORN_WORKERS: 12 }\n");
      const workers = Object.fromEntries(out.services.map((s: any) => [s.name, [s.workers, s.env.UVICORN_WORKERS]]));
      for (const gpu of ["ModelOpsCoordinator", "AffectiveProcessingCenter", "RealTimeAudioPipeline"]) assert.deepEqual(workers[gpu], [1, "1"], gpu);
      for (const cpu of ["ServiceRegistry", "MemoryFusionHub", "UnifiedObservabilityCenter"]) assert.deepEqual(workers[cpu], [12, "12"], cpu);
    });

    it("fleet:workers sets one service's worker count, GPU or not", () => {
      const out = render("pc2", "  fleet:workers: { RealTimeAudioPipeline: 2, MemoryFusionHub: \"3\" }\n");
      const env = (n: string) => out.services.find((s: any) => s.name === n).env.UVICORN_WORKERS;
      assert.deepEqual([env("RealTimeAudioPipeline"), env("MemoryFusionHub"), env("CentralErrorBus")], ["2", "3", "8"]);
    });

    it("adds fleet:serviceEnv to its service only, and shows fleet:secrets by name as [secret]", () => {
      const out = render("pc2", `  fleet:serviceEnv: { CentralErrorBus: { LOG_LEVEL: debug, RETRIES: 3 } }\n  fleet:secrets:\n    CentralErrorBus:\n      API_TOKEN:\n        secure: ${SECURE}\n`);
      for (const s of out.services) {
        const mine = s.name === "CentralErrorBus";
        assert.deepEqual([s.env.LOG_LEVEL, s.env.RETRIES, s.env.API_TOKEN], mine ? ["debug", "3", "[secret]"] : [undefined, undefined, undefined], s.name);
      }
      assert.ok(!JSON.stringify(out).includes(SECURE), "not even the ciphertext is shown");
    });
  });

  describe("rejects", () => {
    it("a fleet:env value of the wrong kind", () => rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:env\.OMP_NUM_THREADS: must be a whole number from 1 to 256; got "sixteen"$/, "  fleet:env: { OMP_NUM_THREADS: sixteen }\n"));
    it("a fleet:env value out of range", () => rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:env\.MODEL_EVICT_THRESHOLD_PCT: must be a whole number from 1 to 100; got 140$/, "  fleet:env: { MODEL_EVICT_THRESHOLD_PCT: 140 }\n"));
    it("a fleet:env key that is not a hardware setting", () => rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:env: unknown key "OMP_THREADS"; remove or correct it$/, "  fleet:env: { OMP_THREADS: 4 }\n"));
    it("more OpenMP threads than the profile's machine has", () => rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:env\.OMP_NUM_THREADS: must be at most machine\.cpuThreads \(12\); got 64$/, "  fleet:env: { OMP_NUM_THREADS: 64 }\n"));
    it("a GPU the profile's machine does not have", () => rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:env\.GPU_VISIBLE_DEVICES: names GPU 1, which machine\.gpus does not list \(it lists 0\); got "1"$/, '  fleet:env: { GPU_VISIBLE_DEVICES: "1" }\n'));
    it("an allocator setting torch cannot parse", () => rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:env\.TORCH_CUDA_ALLOC_CONF: max_split_size_mb must be a whole number of MB above 20; got "16"; got "max_split_size_mb:16"$/, '  fleet:env: { TORCH_CUDA_ALLOC_CONF: "max_split_size_mb:16" }\n'));
    it("per-service env for a service that is not in the catalog", () => rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:serviceEnv\.ErrorBus: is not a service; known: ServiceRegistry, /, "  fleet:serviceEnv: { ErrorBus: { LOG_LEVEL: debug } }\n"));
    it("per-service env for a service the machine does not run", () => rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:secrets\.ModelOpsCoordinator: ModelOpsCoordinator is placed on mainpc, not on pc2, so this stack never runs it; services of pc2: /, `  fleet:secrets: { ModelOpsCoordinator: { HF_TOKEN: { secure: "${SECURE}" } } }\n`));
    it("a key that is not an environment variable name", () => rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:serviceEnv\.CentralErrorBus\.log-level: must be an environment variable name: letters, digits and _, not starting with a digit; got "log-level"$/, "  fleet:serviceEnv: { CentralErrorBus: { log-level: debug } }\n"));
    it("a hardware env key, pointing to fleet:env", () => rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:serviceEnv\.CentralErrorBus\.OMP_NUM_THREADS: OMP_NUM_THREADS is a hardware env setting of every container; set it for the stack with fleet:env\.OMP_NUM_THREADS; fleet:serviceEnv may add other variables only; got "2"$/, "  fleet:serviceEnv: { CentralErrorBus: { OMP_NUM_THREADS: 2 } }\n"));
    it("UVICORN_WORKERS, pointing to fleet:workers", () => rejects("pc2", /fleet:serviceEnv\.CentralErrorBus\.UVICORN_WORKERS: UVICORN_WORKERS is the service's worker count; set it with fleet:workers\.<service>/, "  fleet:serviceEnv: { CentralErrorBus: { UVICORN_WORKERS: 2 } }\n"));
    it("the fleet's own and FLEET_* names", () => {
      rejects("pc2", /fleet:serviceEnv\.CentralErrorBus\.SERVICE_PORT: SERVICE_PORT is set by the fleet from the catalog/, "  fleet:serviceEnv: { CentralErrorBus: { SERVICE_PORT: 9999 } }\n");
      rejects("pc2", /fleet:serviceEnv\.CentralErrorBus\.FLEET_MACHINE: FLEET_MACHINE is reserved: FLEET_\* names belong to the fleet/, "  fleet:serviceEnv: { CentralErrorBus: { FLEET_MACHINE: mainpc } }\n");
    });
    it("a reserved secret key without showing its value", () =>
      rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:secrets\.CentralErrorBus\.NVIDIA_VISIBLE_DEVICES: NVIDIA_VISIBLE_DEVICES decides which GPUs .*; got "\[secret\]"$/, `  fleet:secrets: { CentralErrorBus: { NVIDIA_VISIBLE_DEVICES: { secure: "${SECURE}" } } }\n`, SECURE));
    it("a secret written in plain text, saying how to encrypt it, without showing it", () =>
      rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:secrets\.CentralErrorBus\.API_TOKEN: is stored in plain text in the stack file; encrypt it with `pulumi config set --secret --path 'fleet:secrets\.CentralErrorBus\.API_TOKEN' <value> -s pc2`$/, `  fleet:secrets: { CentralErrorBus: { API_TOKEN: ${TOKEN} } }\n`, TOKEN));
    it("a key set both plain and secret for one service", () =>
      rejects("pc2", /fleet:secrets\.CentralErrorBus\.API_TOKEN: is set in fleet:serviceEnv\.CentralErrorBus too/, `  fleet:serviceEnv: { CentralErrorBus: { API_TOKEN: x } }\n  fleet:secrets: { CentralErrorBus: { API_TOKEN: { secure: "${SECURE}" } } }\n`));
    it("a worker count out of range, or for a service the machine does not run", () => {
      rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:workers\.MemoryFusionHub: must be a whole number from 1 to 256; got 0$/, "  fleet:workers: { MemoryFusionHub: 0 }\n");
      rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:workers\.MemoryFusionHub: must be a whole number from 1 to 256; got "many"$/, "  fleet:workers: { MemoryFusionHub: many }\n");
      rejects("pc2", /^Pulumi\.pc2\.yaml: fleet:workers\.ServiceRegistry: ServiceRegistry is placed on mainpc, not on pc2/, "  fleet:workers: { ServiceRegistry: 2 }\n");
    });
  });

  describe("the program (mocks)", () => {
    const secretsYaml = `  fleet:secrets:\n    CentralErrorBus:\n      API_TOKEN:\n        secure: ${SECURE}\n`;
    let registered: Registered[];
    before(async () => {
      const dir = tempProject({ "Pulumi.local.yaml": stackWith("local", `  fleet:env: { MODEL_EVICT_THRESHOLD_PCT: 55 }\n  fleet:workers: { MemoryFusionHub: 2 }\n${secretsYaml}`) });
      ({ registered } = await runProgram("local", dir, {}, { secrets: JSON.stringify({ CentralErrorBus: { API_TOKEN: TOKEN } }) }));
    });
    // The services' containers (the stack's ports run no service).
    const containers = () => registered.filter((r) => r.type === CONTAINER && !r.name.endsWith("-ports-container"));
    const named = (type: string, slug: string) => registered.find((r) => r.type === type && r.name.endsWith(`${slug}-${type === CONTAINER ? "container" : "canary"}`))!;

    it("fleet:env reaches every service's container and its canary", () => {
      assert.equal(containers().length, 10);
      for (const c of containers()) assert.equal(envOf(c).MODEL_EVICT_THRESHOLD_PCT, "55", c.name);
      for (const k of registered.filter((r) => r.type === CANARY)) assert.ok(pulumi.runtime.unwrapRpcSecret(k.inputs.runFlags).includes("MODEL_EVICT_THRESHOLD_PCT=55"), k.name);
    });

    it("fleet:workers reaches its service's container only", () => {
      assert.equal(envOf(named(CONTAINER, "memory-fusion-hub")).UVICORN_WORKERS, "2");
      assert.equal(envOf(named(CONTAINER, "service-registry")).UVICORN_WORKERS, "1", "the local profile's");
    });

    it("registers a secret as a Pulumi secret on its service's container and canary, and nowhere in plain text", () => {
      const container = named(CONTAINER, "central-error-bus");
      assert.ok(pulumi.runtime.isRpcSecret(container.inputs.envs), "the container's envs are a secret");
      assert.equal(envOf(container).API_TOKEN, TOKEN);
      const canary = named(CANARY, "central-error-bus");
      assert.ok(pulumi.runtime.isRpcSecret(canary.inputs.runFlags), "the canary's run flags are a secret");
      assert.ok(pulumi.runtime.unwrapRpcSecret(canary.inputs.runFlags).includes(`API_TOKEN=${TOKEN}`));
      for (const r of registered) assert.ok(!plainText(r.inputs).includes(TOKEN), `${r.type} ${r.name} holds the secret in plain text`);
    });

    it("never gives a service another service's secret", () => {
      for (const r of registered.filter((r) => !r.name.includes("central-error-bus"))) {
        assert.ok(!JSON.stringify(r.inputs).includes(TOKEN) && !JSON.stringify(r.inputs).includes("API_TOKEN"), `${r.type} ${r.name}`);
        if (r.type === CONTAINER) assert.ok(!pulumi.runtime.isRpcSecret(r.inputs.envs), `${r.name}: nothing secret, so its env stays readable in review`);
      }
    });

    it("refuses fleet:secrets that the engine holds in plain text", async () => {
      const dir = tempProject({ "Pulumi.local.yaml": stackWith("local", secretsYaml) });
      // The engine hands the value over but does not mark the key secret: it was set without --secret.
      const { readStackConfig } = await import("../../stack");
      const { raw } = readStackConfig(dir, "local");
      pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries({ ...raw, secrets: JSON.stringify({ CentralErrorBus: { API_TOKEN: TOKEN } }) }).map(([k, v]) => [`fleet:${k}`, v])), []);
      const { loadFleet } = await import("../../config");
      assert.throws(() => loadFleet(dir), (e: Error) => {
        assert.match(e.message, /Pulumi\.local\.yaml: fleet:secrets\.CentralErrorBus\.API_TOKEN: is stored in plain text in the stack file; encrypt it with `pulumi config set --secret/);
        assert.ok(!e.message.includes(TOKEN));
        return true;
      });
    });
  });
});
