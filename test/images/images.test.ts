import * as assert from "assert";
import { BuiltImage, docker, DOCKER, engineMissing, httpGet, run, waitFor, waitForHttp } from "../support/docker";
import { BASE_REF_FILE, buildFamilies, buildFamily, buildService, FAMILY_ORDER, gitHead, sampleServiceOf } from "../support/image-builds";
import { FAMILIES } from "../../catalog";

/**
 * The real Dockerfiles through the real engine: every family (CPU locks) and the reference
 * service on each family, run the way the fleet runs its containers, probed from outside.
 * Needs `npm run infra` (engine, registry on 127.0.0.1:5000, BuildKit, base image).
 */

const REPO_PREFIX = "fleet-test";

// A sample hardware profile, different from every image default, so /info shows it arrived.
const PROFILE: Readonly<Record<string, string>> = {
  GPU_VISIBLE_DEVICES: "0",
  TORCH_CUDA_ALLOC_CONF: "max_split_size_mb:32",
  OMP_NUM_THREADS: "2",
  UVICORN_WORKERS: "2",
  MODEL_EVICT_THRESHOLD_PCT: "70",
};

// What each family must make importable from its venv (with the CPU locks).
const FAMILY_IMPORTS: Readonly<Record<string, string>> = {
  "base-cpu-pydeps": "pydantic, orjson",
  "family-cpu-pydeps": "pydantic, numpy, scipy, sklearn",
  "family-web": "pydantic, fastapi, starlette, uvicorn, uvloop, httptools",
  "family-torch-cu121": "pydantic, numpy",
  "family-llm-cu121": "pydantic, numpy, safetensors, sentencepiece",
};

// The flags of the fleet's containers (CIS 5.4, 5.13, 5.26, 5.11), bound to loopback (5.14).
const HARDENED = ["--read-only", "--tmpfs", "/tmp:rw,nosuid,nodev,size=64m", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--memory", "256m", "--pids-limit", "256"];

const uniq = `${process.pid}`;
const started: string[] = [];

/** setuid/setgid files of an image, looked for as root so that no directory is hidden. */
async function setuidFiles(ref: string): Promise<string[]> {
  const out = await docker("run", "--rm", "--user", "0", "--network", "none", "--entrypoint", "find", ref, "/", "-xdev", "-perm", "/6000", "-type", "f");
  return out.split("\n").filter(Boolean);
}

describe("images (real engine)", function () {
  const families = new Map<string, BuiltImage>();
  const services = new Map<string, BuiltImage>();
  let revision = "";

  before(async function () {
    const missing = await engineMissing(BASE_REF_FILE);
    if (missing) throw new Error(`the image tests need the local infrastructure: ${missing}`);
    revision = await gitHead();
    for (const [name, image] of await buildFamilies(REPO_PREFIX, { log: (l) => console.log(`      ${l}`) })) families.set(name, image);
    for (const family of FAMILY_ORDER) {
      const image = await buildService(REPO_PREFIX, family, families.get(family)!.ref, { revision });
      console.log(`      built reference service on ${family} in ${image.seconds.toFixed(1)} s: ${image.ref}`);
      services.set(family, image);
    }
    for (const image of [...families.values(), ...services.values()]) await docker("pull", "-q", image.ref);
  });

  after(async function () {
    for (const name of started) await run(DOCKER, ["rm", "-f", "-v", name]).catch(() => undefined);
  });

  for (const family of FAMILY_ORDER) {
    describe(family, function () {
      it("family image: its locked deps import from the venv, pip check is clean, as uid 10001 on a read-only root", async function () {
        const ref = families.get(family)!.ref;
        const code = `import os, ${FAMILY_IMPORTS[family]}; print(os.getuid(), os.getgid())`;
        const ids = await docker("run", "--rm", "--read-only", "--network", "none", ref, "python", "-c", code);
        assert.equal(ids, "10001 10001", `${family}: the image's default user is not 10001:10001`);
        const check = await docker("run", "--rm", "--read-only", "--network", "none", ref, "python", "-m", "pip", "check");
        assert.match(check, /No broken requirements found/);
      });

      if (FAMILIES.find((f) => f.name === family)?.gpu) {
        it("family image: the profile's TORCH_CUDA_ALLOC_CONF reaches torch as PYTORCH_CUDA_ALLOC_CONF", async function () {
          const seen = await docker("run", "--rm", "--read-only", "--network", "none", "-e", `TORCH_CUDA_ALLOC_CONF=${PROFILE.TORCH_CUDA_ALLOC_CONF}`, families.get(family)!.ref, "python", "-c", "import os; print(os.environ.get('PYTORCH_CUDA_ALLOC_CONF'))");
          assert.equal(seen, PROFILE.TORCH_CUDA_ALLOC_CONF);
        });
      }

      it("family image: no setuid/setgid file", async function () {
        assert.deepEqual(await setuidFiles(families.get(family)!.ref), []);
      });

      describe("reference service built on it", function () {
        const sample = sampleServiceOf(family);
        const name = `fleet-test-${family}-${uniq}`;
        let serviceUrl = "";
        let healthUrl = "";

        before(async function () {
          const ref = services.get(family)!.ref;
          const env = Object.entries({ ...PROFILE, FLEET_REVISION: revision }).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
          started.push(name);
          await docker("run", "-d", "--name", name, ...HARDENED, "-p", `127.0.0.1::${sample.servicePort}`, "-p", `127.0.0.1::${sample.healthPort}`, ...env, ref);
          const hostPort = async (p: number) => (await docker("port", name, `${p}/tcp`)).split("\n")[0].trim();
          serviceUrl = `http://${await hostPort(sample.servicePort)}`;
          healthUrl = `http://${await hostPort(sample.healthPort)}`;
          try {
            await waitForHttp(`${healthUrl}/health`, 30_000);
          } catch (err) {
            const logs = await run(DOCKER, ["logs", "--tail", "30", name]);
            throw new Error(`${(err as Error).message}\ncontainer log:\n${logs.stdout}${logs.stderr}`);
          }
        });

        it(`answers GET /health on the health port (${sample.healthPort}) with exactly {"status":"ok"}`, async function () {
          const a = await httpGet(`${healthUrl}/health`);
          assert.equal(a.status, 200);
          assert.equal(a.body, '{"status":"ok"}');
        });

        it("runs as 10001:10001 with tini as PID 1", async function () {
          const cmdline = (await docker("exec", name, "cat", "/proc/1/cmdline")).split("\0").filter(Boolean);
          assert.match(cmdline[0] ?? "", /(^|\/)tini$/, `PID 1 is ${cmdline.join(" ")}, not tini`);
          const status = await docker("exec", name, "cat", "/proc/1/status");
          assert.match(status, /^Uid:\s+10001\s+10001\s+10001\s+10001$/m, "PID 1 does not run as uid 10001");
          assert.match(status, /^Gid:\s+10001\s+10001\s+10001\s+10001$/m, "PID 1 does not run as gid 10001");
          const info = JSON.parse((await httpGet(`${serviceUrl}/info`)).body);
          assert.deepEqual([info.uid, info.gid], [10001, 10001], "the app's worker is not 10001:10001");
        });

        it("receives the hardware profile, its name and the revision (GET /info)", async function () {
          const a = await httpGet(`${serviceUrl}/info`);
          assert.equal(a.status, 200, a.body);
          const info = JSON.parse(a.body);
          assert.deepEqual(info.profile, PROFILE);
          assert.equal(info.service, sample.name);
          assert.equal(info.revision, revision);
          assert.deepEqual(info.ports, { service: sample.servicePort, health: sample.healthPort });
        });

        it("serves with UVICORN_WORKERS worker processes", async function () {
          const count = await docker("exec", name, "python", "-c", "import glob, os; me = f'/proc/{os.getpid()}/cmdline'; print(sum(b'spawn_main' in open(p, 'rb').read() for p in glob.glob('/proc/[0-9]*/cmdline') if p != me))");
          assert.equal(count, PROFILE.UVICORN_WORKERS, `expected ${PROFILE.UVICORN_WORKERS} uvicorn workers, found ${count}`);
        });

        it("carries the git revision label org.opencontainers.image.revision", async function () {
          const label = await docker("image", "inspect", "--format", '{{index .Config.Labels "org.opencontainers.image.revision"}}', services.get(family)!.ref);
          assert.equal(label, revision);
        });

        it("reaches healthy through the image's own Docker HEALTHCHECK", async function () {
          await waitFor(`${name} healthy`, 60_000, async () => {
            const status = await docker("inspect", "--format", "{{.State.Health.Status}}", name);
            if (status === "unhealthy") {
              throw new Error(`unhealthy: ${await docker("inspect", "--format", "{{json .State.Health.Log}}", name)}`);
            }
            return status === "healthy" ? status : undefined;
          }, 1000);
        });

        it("has no setuid/setgid file", async function () {
          assert.deepEqual(await setuidFiles(services.get(family)!.ref), []);
        });

        it("stops cleanly on SIGTERM (tini forwards it): exit 0 within the stop timeout", async function () {
          const t0 = Date.now();
          await docker("stop", "-t", "10", name);
          const seconds = (Date.now() - t0) / 1000;
          const code = await docker("inspect", "--format", "{{.State.ExitCode}}", name);
          assert.equal(code, "0", `exit code ${code} after docker stop`);
          assert.ok(seconds < 9, `docker stop took ${seconds.toFixed(1)} s: SIGTERM was not handled, the engine had to SIGKILL`);
        });
      });
    });
  }

  describe("reproducibility", function () {
    // family-web and the service on it: small enough to rebuild from nothing in seconds.
    const family = "family-web";

    it(`a rebuild of ${family} without any layer cache gives the same digest`, async function () {
      const parent = FAMILIES.find((f) => f.name === family)!.parent!;
      const again = await buildFamily(REPO_PREFIX, family, families.get(parent)!.ref, { noCache: true });
      assert.equal(again.digest, families.get(family)!.digest, "same Dockerfile, lock and parent, different image: a layer is not reproducible");
    });

    it(`a rebuild of the service on ${family} without any layer cache gives the same digest`, async function () {
      const again = await buildService(REPO_PREFIX, family, families.get(family)!.ref, { revision, noCache: true });
      assert.equal(again.digest, services.get(family)!.digest, "same source and family, different image: a layer is not reproducible");
    });
  });
});
