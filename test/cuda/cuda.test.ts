import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { BASE_REF_FILE } from "../support/image-builds";
import { REPO } from "../support/project";
import { writeResults } from "../support/results";
import { exec } from "../../proc";
import { BUILDKIT_ADDR, BuiltImage, docker, engineMissing, imageSize } from "../support/docker";
import { buildFleet, fleetOf } from "../support/fleet-builds";

/**
 * The GPU families with their real CUDA locks (torch 2.3 for CUDA 12.1 and the nvidia-*-cu12
 * wheels), built the way mainpc builds them, and a service on each: `import torch` works,
 * torch.version.cuda starts with 12.1, the service runs as 10001 under tini; on a host whose engine
 * has the NVIDIA runtime, torch also sees a GPU. Heavy (about 2.5 GB of wheels from PyPI), not part
 * of CI: `npm run test:cuda`. Sizes go to results/cuda-sizes.json.
 */
const REGISTRY = "127.0.0.1:5000/e2e-two/cuda";
const SERVICES = ["AffectiveProcessingCenter", "ModelOpsCoordinator"];

describe("real CUDA images (heavy, not in CI)", function () {
  const built = new Map<string, BuiltImage>();
  let gpuHost = false;
  let seconds = 0;

  before(async function () {
    const missing = await engineMissing(BASE_REF_FILE);
    if (missing) throw new Error(`needs the local infrastructure: ${missing}`);
    const start = Date.now();
    const fleet = fleetOf("local", { registry: REGISTRY, machine: "mainpc", profile: "mainpc", locks: "cuda", cpuOnly: "true" });
    for (const [k, v] of await buildFleet(fleet, BUILDKIT_ADDR, (l) => console.log(`      ${l}`), (s) => SERVICES.includes(s))) built.set(k, v);
    seconds = (Date.now() - start) / 1000;
    for (const image of built.values()) await docker("pull", "-q", image.ref);
    gpuHost = (await docker("info", "--format", "{{json .Runtimes}}")).includes('"nvidia"');
  });

  for (const service of SERVICES) {
    it(`${service}: torch imports, built for CUDA 12.1`, async function () {
      const out = await docker("run", "--rm", "--read-only", "--network", "none", built.get(service)!.ref, "python", "-c", "import torch; print(torch.__version__, torch.version.cuda)");
      const [version, cuda] = out.split(" ");
      assert.match(version, /^2\.3\.1\b/, out);
      assert.ok(cuda.startsWith("12.1"), `torch.version.cuda is ${cuda}`);
    });

    it(`${service}: runs as 10001 with tini as PID 1`, async function () {
      const out = await docker("run", "--rm", "--read-only", "--network", "none", built.get(service)!.ref, "python", "-c", "import os; print(os.getuid(), os.getgid(), open('/proc/1/comm').read().strip())");
      assert.equal(out, "10001 10001 tini");
    });

    it(`${service}: torch sees a GPU when the engine has the NVIDIA runtime`, async function () {
      if (!gpuHost) return this.skip();
      const r = await exec("docker", ["run", "--rm", "--gpus", "all", built.get(service)!.ref, "python", "-c", "import torch; print(torch.cuda.is_available())"]);
      assert.equal(r.stdout.trim(), "True", r.stderr);
    });
  }

  after(async function () {
    if (!built.size) return;
    const sizes: Record<string, number> = {};
    for (const [name, image] of built) sizes[name] = Math.round((await imageSize(image.ref)) / 1e6);
    const file = writeResults("cuda-sizes", this.test!.parent!, { coldSeconds: Math.round(seconds), unit: "MB (docker image inspect .Size)", sizes });
    console.log(`      sizes (MB): ${JSON.stringify(sizes)}; ${Math.round(seconds)} s of builds -> ${path.relative(REPO, file)}`);
  });
});
