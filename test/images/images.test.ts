import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FAMILIES, SERVICES } from "../../catalog";
import { inputsDigest, serviceContext } from "../../source/inputs";
import { SERVICE_DOCKERFILE } from "../../stack";
import { checkout, diagnostics, engineEnv, get, must, TestStack, testStack } from "../support/engine";
import { tempDir } from "../support/project";

/**
 * The images exactly as `pulumi up` builds, pushes and runs them: the program deploys every
 * family and service image of the local stack (CPU locks) through docker-build and BuildKit, and
 * each property is checked on the pushed families and on the running containers, so a passing
 * test means a deployed image has it. Stack `images` on a Docker engine of its own, published on
 * 127.0.0.10, with a profile that differs from every image default.
 */
const STACK = "images";

// The hardware profile of this suite, different from every image default, so /info shows it arrived.
const PROFILE = {
  GPU_VISIBLE_DEVICES: "",
  TORCH_CUDA_ALLOC_CONF: "max_split_size_mb:48",
  OMP_NUM_THREADS: 2,
  UVICORN_WORKERS: 2,
  MODEL_EVICT_THRESHOLD_PCT: 77,
};

/** A service's uvicorn workers: one on a GPU family (each worker would hold a CUDA context), else the profile's. */
function workersOf(family: string): number {
  return FAMILIES.find((f) => f.name === family)?.gpu ? 1 : PROFILE.UVICORN_WORKERS;
}

// What each family must make importable from its venv (with the CPU locks).
const FAMILY_IMPORTS: Readonly<Record<string, string>> = {
  "base-cpu-pydeps": "pydantic, orjson",
  "family-cpu-pydeps": "pydantic, numpy, scipy, sklearn",
  "family-web": "pydantic, fastapi, starlette, uvicorn, uvloop, httptools",
  "family-torch-cu121": "pydantic, numpy",
  "family-llm-cu121": "pydantic, numpy, safetensors, sentencepiece",
};

describe("images, as pulumi up builds and runs them (real engine)", function () {
  const work = tempDir("fleet-images-", this);
  const env = engineEnv(path.join(work, "state"));
  fs.mkdirSync(path.join(work, "state"));
  let dir = "";
  let ts: TestStack;
  let families: Record<string, string> = {};
  let services: Record<string, { image: string; container: string; healthUrl: string; ports: { service: number; health: number } }> = {};

  const docker = (...args: string[]) => {
    const r = ts.docker(...args);
    if (r.status !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const setuidFiles = (ref: string) => docker("run", "--rm", "--user", "0", "--network", "none", "--entrypoint", "find", ref, "/", "-xdev", "-perm", "/6000", "-type", "f").split("\n").filter(Boolean);
  const serviceUrl = (name: string) => services[name].healthUrl.replace(/:\d+\/health$/, `:${services[name].ports.service}`);

  before(function () {
    dir = checkout(path.join(work, "fleet"), "0022");
    must("bash", ["scripts/infra.sh"], { cwd: dir, env, timeoutSeconds: 1800 });
    const local = JSON.parse(fs.readFileSync(path.join(dir, "profiles/local.json"), "utf8"));
    fs.writeFileSync(path.join(dir, "profiles/images-test.json"), JSON.stringify({ ...local, env: PROFILE }, null, 2));
    ts = testStack(dir, env, { stack: STACK, engine: STACK, bindAddress: "127.0.0.10", config: { profile: "images-test" } });
    ts.init(dir);
    const r = ts.pulumi(dir, "up", "--yes", "--skip-preview", "--json");
    if (r.status !== 0) throw new Error(`pulumi up exited ${r.status}\n${(diagnostics(r.stdout) || r.stdout).split("\n").slice(-40).join("\n")}\n${r.stderr}`);
    families = ts.output(dir, "families");
    services = ts.output(dir, "services");
    for (const ref of Object.values(families)) docker("pull", "-q", ref);
  });

  after(() => {
    if (ts) ts.pulumi(dir, "destroy", "--yes");
    if (dir) must("bash", ["scripts/engine.sh", "down", "docker", STACK], { cwd: dir, env });
  });

  it("deploys every family and service of the catalog", () => {
    assert.deepEqual(Object.keys(families).sort(), FAMILIES.map((f) => f.name).sort());
    assert.deepEqual(Object.keys(services).sort(), SERVICES.map((s) => s.name).sort());
  });

  for (const family of FAMILIES) {
    describe(family.name, function () {
      it("family image: its locked deps import from the venv, pip check is clean, as uid 10001 on a read-only root", () => {
        const ids = docker("run", "--rm", "--read-only", "--network", "none", families[family.name], "python", "-c", `import os, ${FAMILY_IMPORTS[family.name]}; print(os.getuid(), os.getgid())`);
        assert.equal(ids, "10001 10001", `${family.name}: the image's default user is not 10001:10001`);
        assert.match(docker("run", "--rm", "--read-only", "--network", "none", families[family.name], "python", "-m", "pip", "check"), /No broken requirements found/);
      });

      if (family.gpu) {
        it("family image: the profile's TORCH_CUDA_ALLOC_CONF reaches torch as PYTORCH_CUDA_ALLOC_CONF", () => {
          const seen = docker("run", "--rm", "--read-only", "--network", "none", "-e", `TORCH_CUDA_ALLOC_CONF=${PROFILE.TORCH_CUDA_ALLOC_CONF}`, families[family.name], "python", "-c", "import os; print(os.environ.get('PYTORCH_CUDA_ALLOC_CONF'))");
          assert.equal(seen, PROFILE.TORCH_CUDA_ALLOC_CONF);
        });
      }

      it("family image: no setuid/setgid file (CIS 4.8) and no sshd (CIS 5.7)", () => {
        assert.deepEqual(setuidFiles(families[family.name]), []);
        const sshd = ts.docker("run", "--rm", "--network", "none", "--entrypoint", "sh", families[family.name], "-c", "command -v sshd || test -e /usr/sbin/sshd");
        assert.deepEqual([sshd.status === 0, sshd.stdout.trim()], [false, ""], "an sshd is installed");
      });
    });
  }

  for (const service of SERVICES) {
    describe(`${service.name} (on ${service.family})`, function () {
      it(`answers GET /health on its health port (${service.ports.health}) with exactly {"status":"ok"}`, async () => {
        const a = await get(services[service.name].healthUrl);
        assert.deepEqual([a.status, a.body], [200, '{"status":"ok"}']);
      });

      it("runs as 10001:10001 with tini as PID 1, healthy through the image's own probe", async () => {
        const c = services[service.name].container;
        const cmdline = docker("exec", c, "cat", "/proc/1/cmdline").split("\0").filter(Boolean);
        assert.match(cmdline[0] ?? "", /(^|\/)tini$/, `PID 1 is ${cmdline.join(" ")}, not tini`);
        assert.match(docker("exec", c, "cat", "/proc/1/status"), /^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
        const info = JSON.parse((await get(`${serviceUrl(service.name)}/info`)).body);
        assert.deepEqual([info.uid, info.gid], [10001, 10001], "the app's worker is not 10001:10001");
        assert.equal(docker("inspect", "-f", "{{.State.Health.Status}}", c), "healthy");
        assert.match(docker("image", "inspect", "-f", "{{json .Config.Healthcheck.Test}}", services[service.name].image), /healthcheck\.py/, "the image carries the same probe as the container");
      });

      it("receives the hardware profile, its name, its ports and the inputs digest its image was built from", async () => {
        const info = JSON.parse((await get(`${serviceUrl(service.name)}/info`)).body);
        assert.deepEqual(info.profile, Object.fromEntries(Object.entries({ ...PROFILE, UVICORN_WORKERS: workersOf(service.family) }).map(([k, v]) => [k, String(v)])));
        assert.equal(info.service, service.name);
        assert.deepEqual(info.ports, service.ports);
        const labels = JSON.parse(docker("image", "inspect", "--format", "{{json .Config.Labels}}", services[service.name].image)) as Record<string, string>;
        const expected = inputsDigest(fs.readFileSync(path.join(dir, SERVICE_DOCKERFILE), "utf8"), serviceContext(dir, "examples/reference-service"));
        assert.deepEqual([info.inputs, labels["dev.fleet.inputs"]], [expected, expected], "the digest of the image's own inputs, in the image");
        assert.deepEqual(Object.keys(labels).filter((l) => /revision|created/.test(l)), [], "no commit or commit time in the image");
      });

      it("serves with UVICORN_WORKERS worker processes", () => {
        const count = docker("exec", services[service.name].container, "python", "-c", "import glob, os; me = f'/proc/{os.getpid()}/cmdline'; print(sum(b'spawn_main' in open(p, 'rb').read() for p in glob.glob('/proc/[0-9]*/cmdline') if p != me))");
        // One worker runs in uvicorn's own process: no worker processes are spawned.
        const workers = workersOf(service.family);
        assert.equal(count, String(workers === 1 ? 0 : workers));
      });

      it("has no setuid/setgid file", () => assert.deepEqual(setuidFiles(services[service.name].image), []));
    });
  }

  it("stops cleanly on SIGTERM (tini forwards it): exit 0 within the stop timeout", () => {
    const c = services.CentralErrorBus.container;
    const t0 = Date.now();
    docker("stop", "-t", "10", c);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(docker("inspect", "--format", "{{.State.ExitCode}}", c), "0", "exit code after docker stop");
    assert.ok(seconds < 9, `docker stop took ${seconds.toFixed(1)} s: SIGTERM was not handled, the engine had to SIGKILL`);
    docker("start", c);
  });
});
