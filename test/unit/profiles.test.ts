import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { gpuRequest, limitsFor, loadProfile, parseProfile, profileEnv } from "../../profiles";
import { REPO } from "../support/project";

const text = (name: string) => fs.readFileSync(path.join(REPO, "profiles", `${name}.json`), "utf8");
/** The pc2 profile with `edit` applied to its parsed JSON. */
function pc2With(edit: (p: any) => void): string {
  const p = JSON.parse(text("pc2"));
  edit(p);
  return JSON.stringify(p);
}

describe("profiles", () => {
  it("hold the plan's hardware-aware defaults for mainpc and pc2", () => {
    assert.deepEqual(profileEnv(loadProfile(REPO, "mainpc", "test")), {
      GPU_VISIBLE_DEVICES: "0",
      TORCH_CUDA_ALLOC_CONF: "max_split_size_mb:64",
      OMP_NUM_THREADS: "16",
      UVICORN_WORKERS: "32",
      MODEL_EVICT_THRESHOLD_PCT: "90",
    });
    assert.deepEqual(profileEnv(loadProfile(REPO, "pc2", "test")), {
      GPU_VISIBLE_DEVICES: "0",
      TORCH_CUDA_ALLOC_CONF: "max_split_size_mb:32",
      OMP_NUM_THREADS: "4",
      UVICORN_WORKERS: "8",
      MODEL_EVICT_THRESHOLD_PCT: "70",
    });
  });

  it("give the local profile no GPU", () => {
    const local = loadProfile(REPO, "local", "test");
    assert.deepEqual(local.machine.gpus, []);
    assert.equal(gpuRequest(local, true, true), undefined);
  });

  it("request the profile's GPU for GPU services only", () => {
    const mainpc = loadProfile(REPO, "mainpc", "test");
    assert.deepEqual(gpuRequest(mainpc, true, false), { driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] });
    assert.equal(gpuRequest(mainpc, false, false), undefined);
    assert.equal(gpuRequest(mainpc, true, true), undefined, "a CPU-only stack requests no GPU");
  });

  it("choose the GPU class of limits for GPU services", () => {
    const pc2 = loadProfile(REPO, "pc2", "test");
    assert.equal(limitsFor(pc2, { name: "ModelOpsCoordinator", gpu: true }).memoryMiB, 8192);
    assert.equal(limitsFor(pc2, { name: "CentralErrorBus", gpu: false }).memoryMiB, 1024);
  });

  describe("reject", () => {
    it("a value of the wrong type, quoting it", () => {
      assert.throws(() => parseProfile(pc2With((p) => (p.env.OMP_NUM_THREADS = "sixteen")), "profiles/pc2.json"), /profiles\/pc2\.json: env\.OMP_NUM_THREADS: must be a whole number from 1 to 256; got "sixteen"$/);
    });
    it("a value out of range", () => {
      assert.throws(() => parseProfile(pc2With((p) => (p.env.MODEL_EVICT_THRESHOLD_PCT = 140)), "profiles/pc2.json"), /env\.MODEL_EVICT_THRESHOLD_PCT: must be a whole number from 1 to 100; got 140/);
    });
    it("a missing key", () => {
      assert.throws(() => parseProfile(pc2With((p) => delete p.env.UVICORN_WORKERS), "profiles/pc2.json"), /profiles\/pc2\.json: env\.UVICORN_WORKERS: is required/);
    });
    it("an unknown key", () => {
      assert.throws(() => parseProfile(pc2With((p) => (p.env.OMP_THREADS = 4)), "profiles/pc2.json"), /env: unknown key "OMP_THREADS"/);
    });
    it("a GPU index the machine does not have", () => {
      assert.throws(() => parseProfile(pc2With((p) => (p.env.GPU_VISIBLE_DEVICES = "1")), "profiles/pc2.json"), /env\.GPU_VISIBLE_DEVICES: names GPU 1, which machine\.gpus does not list \(it lists 0\); got "1"/);
    });
    it("more OpenMP threads than the machine has", () => {
      assert.throws(() => parseProfile(pc2With((p) => (p.env.OMP_NUM_THREADS = 64)), "profiles/pc2.json"), /OMP_NUM_THREADS: must be at most machine\.cpuThreads \(12\); got 64/);
    });
    it("unparseable JSON, naming the file", () => {
      assert.throws(() => parseProfile("{ env: ", "profiles/pc2.json"), /profiles\/pc2\.json: is not valid JSON/);
    });
    it("a profile that does not exist, listing the known ones", () => {
      assert.throws(() => loadProfile(REPO, "mainpc2", "Pulumi.x.yaml"), /Pulumi\.x\.yaml: fleet:profile: names no profile: profiles\/mainpc2\.json does not exist; known profiles: .*local.*; got "mainpc2"/);
    });
  });
});
