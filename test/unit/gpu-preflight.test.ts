import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { FleetInputError } from "../../errors";
import { engineGpuSupport, gpuDemands, gpuPreflight, gpuProblems, needsGpu, parseNvidiaSmiCsv, PreflightError, Runner } from "../../preflight/gpu";
import { loadProfile, parseProfile, Profile } from "../../profiles";
import { ResolvedFleet, resolveStack } from "../../stack";
import { REPO, tempProject } from "../support/project";

const fixture = (name: string) => fs.readFileSync(path.join(REPO, "test", "fixtures", "nvidia-smi", name), "utf8");
const NVIDIA = engineGpuSupport(JSON.stringify({ Name: "mainpc", ServerVersion: "27.3.1", Runtimes: { runc: {}, nvidia: { path: "nvidia-container-runtime" } } }));
const CDI = engineGpuSupport(JSON.stringify({ Name: "pc2", ServerVersion: "28.1.1", Runtimes: { runc: {} }, DiscoveredDevices: [{ Source: "cdi", ID: "nvidia.com/gpu=0" }, { Source: "cdi", ID: "nvidia.com/gpu=all" }] }));
const NONE = engineGpuSupport(JSON.stringify({ Name: "ci", ServerVersion: "20.10.24", Runtimes: { runc: {}, "io.containerd.runc.v2": {} } }));

function stack(name: string): { fleet: ResolvedFleet; profile: Profile } {
  const fleet = resolveStack(tempProject(), name);
  return { fleet, profile: fleet.profile.parsed };
}

describe("GPU preflight", () => {
  const mainpc = stack("mainpc");
  const pc2 = stack("pc2");
  const local = stack("local");

  describe("nvidia-smi parsing", () => {
    it("reads an RTX 4090 (mainpc) from --format=csv", () => {
      assert.deepEqual(parseNvidiaSmiCsv(fixture("rtx4090.csv")), [{ index: 0, name: "NVIDIA GeForce RTX 4090", memoryTotalMiB: 24564, memoryUsedMiB: 1187, driverVersion: "550.54.14" }]);
    });
    it("reads an RTX 3060 (pc2) from --format=csv", () => {
      assert.deepEqual(parseNvidiaSmiCsv(fixture("rtx3060.csv")), [{ index: 0, name: "NVIDIA GeForce RTX 3060", memoryTotalMiB: 12288, memoryUsedMiB: 412, driverVersion: "550.54.14" }]);
    });
    it("reads two cards from --format=csv,noheader,nounits", () => {
      const gpus = parseNvidiaSmiCsv(fixture("two-gpus.noheader-nounits.csv"));
      assert.deepEqual(gpus.map((g) => [g.index, g.memoryTotalMiB]), [[0, 24564], [1, 12288]]);
    });
    it("rejects output that is not the query's answer, saying what it found", () => {
      assert.throws(() => parseNvidiaSmiCsv(""), /printed nothing/);
      assert.throws(() => parseNvidiaSmiCsv("index, name\n0, x\n"), /no memory.total column/);
      assert.throws(() => parseNvidiaSmiCsv("index, name, memory.total [MiB]\n0, x, lots\n"), /not a memory size: "lots"/);
      assert.throws(() => parseNvidiaSmiCsv("index, name, memory.total [MiB]\nzero, x, 1 MiB\n"), /not a GPU index/);
    });
  });

  describe("engine GPU support from docker info", () => {
    it("sees a registered nvidia runtime, CDI devices, or neither", () => {
      assert.deepEqual([NVIDIA.nvidiaRuntime, NVIDIA.cdiDevices], [true, []]);
      assert.deepEqual([CDI.nvidiaRuntime, CDI.cdiDevices], [false, ["nvidia.com/gpu=0", "nvidia.com/gpu=all"]]);
      assert.deepEqual([NONE.nvidiaRuntime, NONE.cdiDevices], [false, []]);
    });
  });

  describe("checks", () => {
    it("only GPU stacks are checked: local (cpuOnly) gives no container a GPU", () => {
      assert.equal(needsGpu(local.fleet), false);
      assert.equal(needsGpu(mainpc.fleet), true);
      assert.equal(needsGpu(pc2.fleet), true);
    });

    it("mainpc's three GPU services fit its RTX 4090; pc2's one fits its RTX 3060", () => {
      assert.deepEqual(gpuProblems(mainpc.fleet, mainpc.profile, NVIDIA, parseNvidiaSmiCsv(fixture("rtx4090.csv"))), []);
      assert.deepEqual(gpuProblems(pc2.fleet, pc2.profile, CDI, parseNvidiaSmiCsv(fixture("rtx3060.csv"))), []);
      assert.deepEqual(gpuDemands(mainpc.fleet, mainpc.profile).demands.map((d) => d.service).sort(), ["AffectiveProcessingCenter", "ModelOpsCoordinator", "RealTimeAudioPipeline"]);
    });

    it("an engine without NVIDIA runtime or CDI devices: names the engine, the services and the fix", () => {
      const [p, ...rest] = gpuProblems(mainpc.fleet, mainpc.profile, NONE, undefined);
      assert.equal(rest.length, 0);
      assert.equal(
        p,
        "fleet:dockerHost unix:///var/run/docker.sock: engine ci (Docker 20.10.24) has no NVIDIA runtime registered and no CDI GPU devices, so ModelOpsCoordinator, AffectiveProcessingCenter, RealTimeAudioPipeline cannot get a GPU; install the NVIDIA Container Toolkit there (nvidia-ctk runtime configure --runtime=docker), or set fleet:cpuOnly: true",
      );
    });

    it("mainpc's budgets on pc2's RTX 3060: the card, its memory, the sum and each service", () => {
      assert.deepEqual(gpuProblems(mainpc.fleet, mainpc.profile, NVIDIA, parseNvidiaSmiCsv(fixture("rtx3060.csv"))), [
        "profiles/mainpc.json: vramMiB: the GPU services on GPU 0 (NVIDIA GeForce RTX 3060, 12288 MiB) need 21504 MiB together, more than it has: ModelOpsCoordinator 14336, AffectiveProcessingCenter 4096, RealTimeAudioPipeline 3072",
      ]);
    });

    it("a GPU index the host does not have", () => {
      const onOne = parseNvidiaSmiCsv(fixture("rtx4090.csv")).map((g) => ({ ...g, index: 1 }));
      const problems = gpuProblems(pc2.fleet, pc2.profile, NVIDIA, onOne);
      assert.deepEqual(problems, ["profiles/pc2.json: env.GPU_VISIBLE_DEVICES: names GPU 0, which the host of fleet:dockerHost unix:///var/run/docker.sock does not have; it has 1 (NVIDIA GeForce RTX 4090, 24564 MiB)"]);
    });

    it("a GPU index the host does not have, set by the stack's fleet:env, names the stack file", () => {
      const twoGpus = fs.readFileSync(path.join(REPO, "profiles/pc2.json"), "utf8").replace('"gpus": [{ "index": 0, "model": "NVIDIA GeForce RTX 3060", "memoryMiB": 12288 }]', '"gpus": [{ "index": 0, "model": "NVIDIA GeForce RTX 3060", "memoryMiB": 12288 }, { "index": 1, "model": "NVIDIA GeForce RTX 3060", "memoryMiB": 12288 }]');
      const stackFile = fs.readFileSync(path.join(REPO, "Pulumi.pc2.yaml"), "utf8").replace(/^config:\n/m, 'config:\n  fleet:env: { GPU_VISIBLE_DEVICES: "1" }\n');
      const dir = tempProject({ "profiles/pc2.json": twoGpus, "Pulumi.pc2.yaml": stackFile });
      const fleet = resolveStack(dir, "pc2");
      const problems = gpuProblems(fleet, fleet.profile.parsed, NVIDIA, parseNvidiaSmiCsv(fixture("rtx3060.csv")));
      assert.deepEqual(problems, ["Pulumi.pc2.yaml: fleet:env.GPU_VISIBLE_DEVICES: names GPU 1, which the host of fleet:dockerHost unix:///var/run/docker.sock does not have; it has 0 (NVIDIA GeForce RTX 3060, 12288 MiB)"]);
    });

    it("nvidia-smi failing in the GPU container is reported with its error", () => {
      assert.deepEqual(gpuProblems(pc2.fleet, pc2.profile, CDI, undefined, "could not select device driver"), [
        "fleet:dockerHost unix:///var/run/docker.sock: nvidia-smi could not be run in a GPU container on engine pc2 (Docker 28.1.1): could not select device driver",
      ]);
    });

    it("a GPU service without a VRAM budget in the profile", () => {
      const { vramMiB, ...rest } = pc2.profile;
      assert.ok(vramMiB);
      assert.deepEqual(gpuProblems(pc2.fleet, rest, NVIDIA, parseNvidiaSmiCsv(fixture("rtx3060.csv"))), [
        "profiles/pc2.json: vramMiB.RealTimeAudioPipeline: is required for a service that gets a GPU (its VRAM budget in MiB, checked against the card's memory)",
      ]);
    });
  });

  describe("the profile's vramMiB", () => {
    const text = (vram: unknown) => JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(REPO, "profiles", "pc2.json"), "utf8")), vramMiB: vram });
    const rejects = (vram: unknown, re: RegExp) =>
      assert.throws(() => parseProfile(text(vram), "profiles/pc2.json"), (e: unknown) => e instanceof FleetInputError && re.test(e.message));
    it("is checked: whole MiB, service names, at most the largest GPU of the machine", () => {
      rejects({ RealTimeAudioPipeline: "6 GiB" }, /profiles\/pc2.json: vramMiB.RealTimeAudioPipeline: must be a whole number from 64 to 1048576; got "6 GiB"/);
      rejects({ "real-time": 100 }, /profiles\/pc2.json: vramMiB.real-time: must map GPU service names \(like ModelOpsCoordinator\) to their VRAM budget in MiB; got 100/);
      rejects({ RealTimeAudioPipeline: 16384 }, /profiles\/pc2.json: vramMiB.RealTimeAudioPipeline: must fit one GPU of machine.gpus \(the largest has 12288 MiB\); got 16384/);
      rejects([1], /vramMiB: must map GPU service names \(like ModelOpsCoordinator\) to their VRAM budget in MiB/);
    });
  });

  describe("against an engine (recorded answers)", () => {
    it("checks the profile the stack was resolved with, as its file holds it (before fleet:env)", () => {
      const dir = tempProject({ "Pulumi.pc2.yaml": fs.readFileSync(path.join(REPO, "Pulumi.pc2.yaml"), "utf8").replace(/^config:\n/m, "config:\n  fleet:env: { OMP_NUM_THREADS: 2 }\n") });
      const fleet = resolveStack(dir, "pc2");
      assert.deepEqual(fleet.profile.parsed, loadProfile(dir, "pc2", "Pulumi.pc2.yaml"));
      assert.equal(fleet.hardwareEnv.OMP_NUM_THREADS, "2");
    });

    it("asks docker info, then nvidia-smi in a GPU container of the base image, on the stack's host", () => {
      const calls: string[][] = [];
      const run: Runner = (_cmd, args, env) => {
        calls.push([env.DOCKER_HOST ?? "", ...args]);
        return args[0] === "info" ? JSON.stringify({ Name: "mainpc", ServerVersion: "27.3.1", Runtimes: { nvidia: {} } }) : fixture("rtx4090.csv");
      };
      gpuPreflight(mainpc.fleet, run);
      assert.equal(calls.length, 2);
      assert.deepEqual(calls[0], ["unix:///var/run/docker.sock", "info", "--format", "{{json .}}"]);
      assert.ok(calls[1].includes("--gpus") && calls[1].includes(mainpc.fleet.baseImage) && calls[1].includes("nvidia-smi"), calls[1].join(" "));
    });

    it("a stack without GPU containers asks nothing", () => {
      gpuPreflight(local.fleet, () => assert.fail("no engine call expected"));
    });

    it("an engine that does not answer", () => {
      const run: Runner = () => {
        throw Object.assign(new Error("exit 1"), { stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n" });
      };
      assert.throws(() => gpuPreflight(pc2.fleet, run), (e: unknown) => {
        assert.ok(e instanceof PreflightError);
        assert.match(e.message, /^fleet: stack pc2 cannot run on its Docker host; nothing was changed:\n  fleet:dockerHost unix:\/\/\/var\/run\/docker.sock: no Docker engine answers there: Cannot connect/);
        return true;
      });
    });
  });
});
