import { strict as assert } from "assert";
import fc from "fast-check";
import { buildCatalog, FAMILIES, runsOn, SERVICES } from "../../catalog";
import { FleetInputError } from "../../errors";
import { Profile, profileProblems, profileSchema } from "../../profiles";
import { decodeStackConfig, resolveFleet } from "../../stack";
import { PINNED_BASE, REPO } from "../support/project";

const limit = fc.record({ memoryMiB: fc.integer({ min: 64, max: 65536 }), cpuShares: fc.integer({ min: 2, max: 4096 }), pidsLimit: fc.integer({ min: 16, max: 65536 }) });

/** Any profile the schema and the machine checks accept. */
const validProfile: fc.Arbitrary<Profile> = fc
  .record({
    cpuThreads: fc.integer({ min: 1, max: 128 }),
    memoryMiB: fc.integer({ min: 512, max: 262144 }),
    gpuCount: fc.integer({ min: 0, max: 4 }),
    omp: fc.integer({ min: 1, max: 256 }),
    workers: fc.integer({ min: 1, max: 256 }),
    evict: fc.integer({ min: 1, max: 100 }),
    split: fc.integer({ min: 21, max: 1024 }),
    cpu: limit,
    gpu: limit,
  })
  .map((r) => ({
    machine: { description: "generated", cpuThreads: r.cpuThreads, memoryMiB: r.memoryMiB, gpus: Array.from({ length: r.gpuCount }, (_, index) => ({ index, model: "gpu", memoryMiB: 8192 })) },
    env: { GPU_VISIBLE_DEVICES: r.gpuCount ? "0" : "", TORCH_CUDA_ALLOC_CONF: `max_split_size_mb:${r.split}`, OMP_NUM_THREADS: Math.min(r.omp, r.cpuThreads), UVICORN_WORKERS: r.workers, MODEL_EVICT_THRESHOLD_PCT: r.evict },
    limits: { cpu: { ...r.cpu, memoryMiB: Math.min(r.cpu.memoryMiB, r.memoryMiB) }, gpu: { ...r.gpu, memoryMiB: Math.min(r.gpu.memoryMiB, r.memoryMiB) }, services: {} },
  }))
  .filter((p) => profileSchema.safeParse(p).success && profileProblems(p, "gen").length === 0);

const stackConfig = (machine: string, extra: Record<string, string> = {}) =>
  decodeStackConfig({ machine, profile: "gen", registry: "127.0.0.1:5000/fleet", baseImage: PINNED_BASE, cpuOnly: "false", dockerHost: "unix:///var/run/docker.sock", builder: "fleet", locks: "cuda", bindAddress: "127.0.0.1", publishAllInterfaces: "false", defaultSource: "examples/reference-service", healthTimeoutSeconds: "60", buildOnPreview: "false", retainVolumes: "true", scanSeverity: "HIGH", scanFailOnUnfixed: "false", ...extra }, "Pulumi.gen.yaml");
const commit = "a".repeat(40);

describe("invariants", function () {
  this.timeout(60000);

  it("every valid profile yields containers that fit their machine, or a clear memory error", () => {
    fc.assert(
      fc.property(validProfile, fc.constantFrom("mainpc", "pc2", "local"), fc.boolean(), (profile, machine, cpuOnly) => {
        const config = stackConfig(machine, { cpuOnly: String(cpuOnly) });
        try {
          const fleet = resolveFleet({ stack: "gen", stackFile: "Pulumi.gen.yaml", config, projectDir: REPO, commit, profile });
          const total = fleet.services.reduce((sum, s) => sum + s.limits.memoryMiB, 0);
          assert.ok(total <= profile.machine.memoryMiB, `total ${total} > ${profile.machine.memoryMiB}`);
          for (const s of fleet.services) {
            assert.ok(Number(s.env.OMP_NUM_THREADS) <= profile.machine.cpuThreads);
            assert.equal(s.gpu, s.needsGpu && !cpuOnly);
            for (const id of s.gpuRequest?.deviceIds ?? []) assert.ok(profile.machine.gpus.some((g) => String(g.index) === id));
          }
        } catch (e) {
          assert.ok(e instanceof FleetInputError, String(e));
          for (const p of e.problems) assert.match(p, /need \d+ MiB together, more than machine\.memoryMiB|needs a GPU .* lists none/);
          if (e.problems.some((p) => /needs a GPU/.test(p))) assert.ok(!cpuOnly && profile.machine.gpus.length === 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("every enabled service has exactly one container and no two share a host port", () => {
    const names = SERVICES.map((s) => s.name);
    fc.assert(
      fc.property(fc.constantFrom("mainpc", "pc2", "local"), fc.subarray(names), fc.subarray(["4.1", "4.2", "4.3", "4.4"]), (machine, picked, phases) => {
        const placed = picked.filter((n) => runsOn(SERVICES.find((s) => s.name === n)!.placement, machine as "mainpc"));
        const config = stackConfig(machine, { cpuOnly: "true", services: JSON.stringify({ names: placed, phases }) });
        const fleet = resolveFleet({ stack: "gen", stackFile: "Pulumi.gen.yaml", config, projectDir: REPO, commit, profile: { ...bigProfile } });
        const want = SERVICES.filter((s) => runsOn(s.placement, machine as "mainpc") && (placed.includes(s.name) || phases.includes(s.phase))).map((s) => s.name);
        assert.deepEqual(fleet.services.map((s) => s.name), want);
        const ports = fleet.services.flatMap((s) => [s.ports.service, s.ports.health]);
        assert.equal(new Set(ports).size, ports.length);
      }),
      { numRuns: 200 },
    );
  });

  it("every service gets its own fleet:workers, else 1 if it needs a GPU, else the hardware env's; and only its own secrets", () => {
    const names = SERVICES.map((s) => s.name);
    const perService = <T>(value: fc.Arbitrary<T>) => fc.dictionary(fc.constantFrom(...names), value, { maxKeys: names.length });
    fc.assert(
      fc.property(
        perService(fc.integer({ min: 1, max: 256 })),
        fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }),
        perService(fc.dictionary(fc.constantFrom("API_TOKEN", "DB_URL", "HF_TOKEN"), fc.string({ minLength: 1 }), { minKeys: 1 })),
        (workers, stackWorkers, secrets) => {
          const extra = { workers: JSON.stringify(workers), secrets: JSON.stringify(secrets), env: JSON.stringify(stackWorkers === undefined ? {} : { UVICORN_WORKERS: stackWorkers }) };
          const fleet = resolveFleet({ stack: "gen", stackFile: "Pulumi.gen.yaml", config: stackConfig("local", { cpuOnly: "true", ...extra }), projectDir: REPO, commit, profile: { ...bigProfile } });
          for (const s of fleet.services) {
            const want = workers[s.name] ?? (s.needsGpu ? 1 : stackWorkers ?? bigProfile.env.UVICORN_WORKERS);
            assert.equal(s.env.UVICORN_WORKERS, String(want), s.name);
            assert.deepEqual(s.secretEnv, { ...secrets[s.name] }, s.name);
            for (const key of Object.keys(s.secretEnv)) assert.equal(s.env[key], undefined, `${s.name}: ${key} stays out of the plain env`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("the catalog rejects a port assignment exactly when two services on one machine share a port", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1024, max: 1040 }), { minLength: 20, maxLength: 20 }), (ports) => {
        const services = SERVICES.map((s, i) => ({ ...s, ports: { service: ports[2 * i], health: ports[2 * i + 1] } }));
        const clash = (["mainpc", "pc2"] as const).some((m) => {
          const used = services.filter((s) => runsOn(s.placement, m)).flatMap((s) => [s.ports.service, s.ports.health]);
          return new Set(used).size !== used.length;
        }) || (() => {
          const used = services.flatMap((s) => [s.ports.service, s.ports.health]);
          return new Set(used).size !== used.length;
        })();
        let threw = false;
        try {
          buildCatalog(FAMILIES, services);
        } catch (e) {
          threw = e instanceof FleetInputError && e.problems.every((p) => /is used twice on/.test(p));
          assert.ok(threw, String(e));
        }
        assert.equal(threw, clash);
      }),
      { numRuns: 300 },
    );
  });
});

const bigProfile: Profile = {
  machine: { description: "big", cpuThreads: 64, memoryMiB: 1048576, gpus: [{ index: 0, model: "gpu", memoryMiB: 24576 }] },
  env: { GPU_VISIBLE_DEVICES: "0", TORCH_CUDA_ALLOC_CONF: "max_split_size_mb:64", OMP_NUM_THREADS: 8, UVICORN_WORKERS: 8, MODEL_EVICT_THRESHOLD_PCT: 90 },
  limits: { cpu: { memoryMiB: 1024, cpuShares: 512, pidsLimit: 1024 }, gpu: { memoryMiB: 8192, cpuShares: 1024, pidsLimit: 4096 }, services: {} },
};
