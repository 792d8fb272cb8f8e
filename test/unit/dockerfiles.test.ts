import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { FAMILIES as CATALOG_FAMILIES } from "../../catalog";
import { familyDockerfile } from "../../stack";
import { checkDockerfile, checkLock, DockerfileKind, formatViolations, parseLock } from "../support/dockerfile-rules";

const REPO = path.resolve(__dirname, "..", "..");
const DOCKERFILES = path.join(REPO, "dockerfiles");
const LOCKS = path.join(DOCKERFILES, "requirements");
const SERVICE = path.join(REPO, "examples", "reference-service");

// The family tree and GPU flags come from the catalog, so a family added there needs its
// Dockerfile and locks here before the tests pass.
const PARENT: Readonly<Record<string, string | null>> = Object.fromEntries(CATALOG_FAMILIES.map((f) => [f.name, f.parent]));
const FAMILIES = CATALOG_FAMILIES.map((f) => f.name);
const GPU_FAMILIES = CATALOG_FAMILIES.filter((f) => f.gpu).map((f) => f.name);

const read = (file: string) => fs.readFileSync(file, "utf8");
const ancestors = (family: string): string[] => {
  const parent = PARENT[family];
  return parent ? [parent, ...ancestors(parent)] : [];
};
const pins = (file: string) => new Map(parseLock(read(file)).map((r) => [r.name, r.version]));

function assertClean(file: string, kind: DockerfileKind, name?: string): void {
  const violations = checkDockerfile(read(file), kind, name);
  assert.deepEqual(violations, [], `\n${formatViolations(path.relative(REPO, file), violations)}`);
}

/** A small Dockerfile that passes every rule; failure tests break one thing in it. */
const GOOD_SERVICE = `ARG FAMILY
FROM \${FAMILY} AS builder
USER root
COPY requirements.lock /tmp/requirements.lock
RUN --mount=type=cache,target=/root/.cache/pip pip install --prefix=/opt/app/deps --require-hashes --no-deps -r /tmp/requirements.lock
COPY app/ /opt/app/src/app/
FROM \${FAMILY}
COPY --from=builder /opt/app /opt/app
ARG SERVICE_NAME
ARG SERVICE_PORT
ARG HEALTH_PORT
USER 10001:10001
HEALTHCHECK CMD ["python", "/usr/local/lib/fleet/healthcheck.py"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "--"]
CMD ["python", "-m", "app"]
`;

const rulesOf = (source: string, kind: DockerfileKind = "service") => checkDockerfile(source, kind).map((v) => `${v.rule}: ${v.message}`).join("\n");

describe("Dockerfiles", () => {
  it("covers the plan's five families", () => {
    assert.deepEqual([...FAMILIES].sort(), ["base-cpu-pydeps", "family-cpu-pydeps", "family-llm-cu121", "family-torch-cu121", "family-web"]);
    assert.deepEqual(GPU_FAMILIES, ["family-torch-cu121", "family-llm-cu121"]);
  });

  it("has a Dockerfile for every family and the shared service Dockerfile, and no syntax directive anywhere", () => {
    for (const f of CATALOG_FAMILIES) assert.ok(fs.existsSync(path.join(REPO, familyDockerfile(f))), `missing ${familyDockerfile(f)} for ${f.name}`);
    assert.deepEqual(fs.readdirSync(DOCKERFILES).filter((f) => f.endsWith(".Dockerfile")).sort(), ["base-cpu-pydeps.Dockerfile", "family.Dockerfile", "service.Dockerfile", "service.single-stage.Dockerfile"], "one Dockerfile for all families below the root: no copies");
    assert.ok(fs.existsSync(path.join(DOCKERFILES, "service.Dockerfile")), "missing dockerfiles/service.Dockerfile");
    for (const f of fs.readdirSync(DOCKERFILES).filter((f) => f.endsWith(".Dockerfile"))) {
      assert.doesNotMatch(read(path.join(DOCKERFILES, f)), /^\s*#\s*syntax\s*=/im, `${f} has a '# syntax=' line`);
    }
  });

  it("base-cpu-pydeps.Dockerfile (root family) passes every image rule", () => {
    assertClean(path.join(DOCKERFILES, "base-cpu-pydeps.Dockerfile"), "root-family", "base-cpu-pydeps");
  });

  for (const family of FAMILIES.filter((f) => PARENT[f])) {
    it(`family.Dockerfile passes every image rule for ${family}`, () => {
      assertClean(path.join(DOCKERFILES, "family.Dockerfile"), "family", family);
    });
  }

  it("service.Dockerfile passes every image rule", () => {
    assertClean(path.join(DOCKERFILES, "service.Dockerfile"), "service");
  });

  it("service.Dockerfile installs the service's deps into a separate prefix and copies only that prefix and the app", () => {
    const source = read(path.join(DOCKERFILES, "service.Dockerfile"));
    assert.match(source, /pip install --prefix=\/opt\/app\/deps /);
    const runtime = source.slice(source.lastIndexOf("\nFROM "));
    assert.deepEqual(runtime.match(/^COPY .*$/gm), ["COPY --from=builder /opt/app/deps /opt/app/deps", "COPY --from=builder /opt/app/src /opt/app/src"]);
    assert.doesNotMatch(runtime, /^RUN /m, "the runtime stage runs nothing");
  });

  it("only the root family creates appuser, and exactly once", () => {
    const creators = fs.readdirSync(DOCKERFILES).filter((f) => f.endsWith(".Dockerfile") && /\buseradd\b/.test(read(path.join(DOCKERFILES, f))));
    assert.deepEqual(creators, ["base-cpu-pydeps.Dockerfile"]);
    assert.equal(read(path.join(DOCKERFILES, "base-cpu-pydeps.Dockerfile")).match(/\buseradd\b/g)?.length, 1);
  });

  it("the naive single-stage baseline (bench only) is what the rules reject", () => {
    const rules = new Set(checkDockerfile(read(path.join(DOCKERFILES, "service.single-stage.Dockerfile")), "service").map((v) => v.rule));
    for (const rule of ["multi-stage", "apt-no-recommends", "apt-lists-removed", "pip-cache-mount"]) assert.ok(rules.has(rule), `expected the baseline to break ${rule}; it broke ${[...rules].join(", ")}`);
  });

  it("both .dockerignore files keep models, data, VCS, caches and tests out of the context", () => {
    for (const dir of [DOCKERFILES, SERVICE]) {
      const lines = read(path.join(dir, ".dockerignore")).split("\n").map((l) => l.trim());
      for (const p of ["models", "data", ".git", "node_modules", "**/__pycache__", "**/*.pyc", ".venv", "tests"]) {
        assert.ok(lines.includes(p), `${path.relative(REPO, dir)}/.dockerignore does not exclude ${p}`);
      }
      assert.ok(!lines.some((l) => l.startsWith("!")), "re-includes (!) are not understood by the staged-context copier");
    }
  });

  describe("checker failure cases", () => {
    it("accepts the minimal good service Dockerfile", () => {
      assert.equal(rulesOf(GOOD_SERVICE), "");
    });

    it("rejects a '# syntax=' directive", () => {
      assert.match(rulesOf(`# syntax=docker/dockerfile:1\n${GOOD_SERVICE}`), /no-syntax-directive: .*pull a frontend image/);
    });

    it("rejects a single-stage build", () => {
      assert.match(rulesOf("ARG FAMILY\nFROM ${FAMILY}\nUSER 10001:10001\nENTRYPOINT [\"tini\", \"--\"]\nSTOPSIGNAL SIGTERM\nHEALTHCHECK CMD [\"python\", \"/usr/local/lib/fleet/healthcheck.py\"]\nARG SERVICE_NAME\nARG SERVICE_PORT\nARG HEALTH_PORT\n"), /multi-stage: expected a stage named 'builder'/);
    });

    it("rejects a FROM that is not the parent build arg", () => {
      assert.match(rulesOf(GOOD_SERVICE.replace("FROM ${FAMILY} AS builder", "FROM python:3.11 AS builder")), /from-by-arg: FROM python:3.11: every stage must start FROM \$\{FAMILY\}/);
    });

    it("rejects a runtime stage that ends as root", () => {
      assert.match(rulesOf(GOOD_SERVICE.replace("USER 10001:10001", "USER root")), /runtime-user: the runtime stage must end as USER 10001:10001; got root/);
    });

    it("rejects an entrypoint without tini", () => {
      assert.match(rulesOf(GOOD_SERVICE.replace('ENTRYPOINT ["tini", "--"]', 'ENTRYPOINT ["python"]')), /tini-entrypoint: ENTRYPOINT must be \["tini", "--"\]/);
    });

    it("rejects a service image without HEALTHCHECK", () => {
      assert.match(rulesOf(GOOD_SERVICE.replace(/^HEALTHCHECK.*$/m, "")), /healthcheck: the service image must declare a HEALTHCHECK/);
    });

    it("rejects pip without --require-hashes", () => {
      assert.match(rulesOf(GOOD_SERVICE.replace(" --require-hashes", "")), /pip-require-hashes: pip install must use --require-hashes/);
    });

    it("rejects pip without the wheel cache mount", () => {
      assert.match(rulesOf(GOOD_SERVICE.replace("--mount=type=cache,target=/root/.cache/pip ", "")), /pip-cache-mount: .*--mount=type=cache,target=\/root\/\.cache\/pip/);
    });

    it("rejects pip install in the runtime stage", () => {
      assert.match(rulesOf(GOOD_SERVICE.replace("USER 10001:10001", "RUN --mount=type=cache,target=/root/.cache/pip pip install --require-hashes -r /tmp/r.lock\nUSER 10001:10001")), /runtime-copies-only: the runtime stage must not pip install/);
    });

    it("rejects ADD", () => {
      assert.match(rulesOf(GOOD_SERVICE.replace("COPY app/ /opt/app/src/app/", "ADD app/ /opt/app/src/app/")), /copy-not-add: use COPY, not ADD/);
    });

    it("rejects apt-get update on its own RUN line", () => {
      assert.match(rulesOf(GOOD_SERVICE.replace("USER root", "USER root\nRUN apt-get update")), /apt-update-alone: apt-get update must share its RUN with apt-get install/);
    });

    it("rejects apt-get install with recommends and with the lists left behind", () => {
      const rules = rulesOf(GOOD_SERVICE.replace("USER root", "USER root\nRUN apt-get update && apt-get install -y gcc"));
      assert.match(rules, /apt-no-recommends: apt-get install must use --no-install-recommends/);
      assert.match(rules, /apt-lists-removed: remove \/var\/lib\/apt\/lists\/\*/);
    });

    it("rejects secret-looking ENV and ARG, but not look-alike names", () => {
      assert.match(rulesOf(GOOD_SERVICE.replace("ARG SERVICE_NAME", "ARG SERVICE_NAME\nENV HF_TOKEN=abc")), /no-secrets: ENV HF_TOKEN: a secret-looking name/);
      assert.match(rulesOf(GOOD_SERVICE.replace("ARG SERVICE_NAME", "ARG SERVICE_NAME\nARG DB_PASSWORD")), /no-secrets: ARG DB_PASSWORD/);
      assert.match(rulesOf(GOOD_SERVICE.replace("ARG SERVICE_NAME", "ARG SERVICE_NAME\nENV NOTE=ghp_abcdefghijklmnopqrstuvwxyz0123456789")), /no-secrets: ENV NOTE: the value looks like a credential/);
      assert.equal(rulesOf(GOOD_SERVICE.replace("ARG SERVICE_NAME", "ARG SERVICE_NAME\nENV TOKENIZERS_PARALLELISM=false")), "");
    });

    it("rejects app code copied before the deps are installed", () => {
      const swapped = GOOD_SERVICE.replace("COPY app/ /opt/app/src/app/\n", "").replace("COPY requirements.lock", "COPY app/ /opt/app/src/app/\nCOPY requirements.lock");
      assert.match(rulesOf(swapped), /layer-order: deps after app code/);
    });

    it("rejects a root family that leaves setuid bits or makes no user", () => {
      const root = read(path.join(DOCKERFILES, "base-cpu-pydeps.Dockerfile"));
      assert.match(rulesOf(root.replace(/\n && find \/ -xdev.*$/m, ""), "root-family"), /no-setuid: the root family must strip setuid\/setgid bits/);
      assert.match(rulesOf(root.replace(/--uid 10001/, "--uid 1000"), "root-family"), /runtime-user: the root family must create appuser as uid 10001/);
    });

    it("rejects a family that creates its own user", () => {
      const family = read(path.join(DOCKERFILES, "family.Dockerfile"));
      assert.match(rulesOf(family.replace("USER root", "USER root\nRUN useradd -u 1000 me"), "family"), /runtime-user: only base-cpu-pydeps creates the runtime user/);
    });
  });
});

describe("hash-locked requirements", () => {
  const lockFiles = fs.readdirSync(LOCKS).filter((f) => f.endsWith(".lock")).map((f) => path.join(LOCKS, f));
  lockFiles.push(path.join(SERVICE, "requirements.lock"));

  for (const file of lockFiles) {
    it(`${path.relative(REPO, file)}: every requirement is pinned and has a --hash=sha256:`, () => {
      assert.deepEqual(checkLock(read(file)), []);
    });
  }

  for (const family of FAMILIES) {
    it(`${family} has its real and its CPU lock, each beside its input file`, () => {
      for (const lock of [`${family}.lock`, `${family}.cpu.lock`]) assert.ok(fs.existsSync(path.join(LOCKS, lock)), `missing dockerfiles/requirements/${lock}`);
      assert.ok(fs.existsSync(path.join(LOCKS, `${family}.in`)), `missing dockerfiles/requirements/${family}.in`);
      if (GPU_FAMILIES.includes(family)) assert.ok(fs.existsSync(path.join(LOCKS, `${family}.cpu.in`)), `missing dockerfiles/requirements/${family}.cpu.in`);
    });

    for (const variant of ["", ".cpu"]) {
      const lock = `${family}${variant}.lock`;
      it(`${lock} pins every package it shares with its ancestors to the ancestors' version`, () => {
        const mine = pins(path.join(LOCKS, lock));
        for (const ancestor of ancestors(family)) {
          for (const [name, version] of pins(path.join(LOCKS, `${ancestor}${variant}.lock`))) {
            if (mine.has(name)) assert.equal(mine.get(name), version, `${lock} pins ${name}==${mine.get(name)} but ${ancestor}${variant}.lock has ${version}`);
          }
        }
      });
    }
  }

  it("the real torch lock is torch 2.3 on the CUDA 12.1 wheels; the CPU locks carry no CUDA", () => {
    const torch = pins(path.join(LOCKS, "family-torch-cu121.lock"));
    assert.match(torch.get("torch") ?? "", /^2\.3\./);
    const cuda = [...torch].filter(([n]) => /^nvidia-.*-cu12$/.test(n));
    assert.ok(cuda.length >= 10, "expected the nvidia-*-cu12 runtime wheels in the lock");
    for (const [name, version] of cuda.filter(([n]) => /cuda-runtime|nvjitlink|cublas/.test(n))) assert.match(version ?? "", /^12\.1\./, `${name}==${version} is not CUDA 12.1`);
    assert.ok(pins(path.join(LOCKS, "family-llm-cu121.lock")).has("transformers"));
    for (const f of GPU_FAMILIES) {
      const heavy = [...pins(path.join(LOCKS, `${f}.cpu.lock`)).keys()].filter((n) => /^(torch|triton|nvidia-)/.test(n));
      assert.deepEqual(heavy, [], `${f}.cpu.lock must stay light for the local stack and CI`);
    }
  });

  it("the reference service's lock agrees with base-cpu-pydeps and family-web", () => {
    const mine = pins(path.join(SERVICE, "requirements.lock"));
    for (const lock of ["base-cpu-pydeps.lock", "family-web.lock"]) {
      for (const [name, version] of pins(path.join(LOCKS, lock))) if (mine.has(name)) assert.equal(mine.get(name), version, `${name}: ${mine.get(name)} vs ${lock} ${version}`);
    }
  });

  it("the lock checker rejects an unhashed or unpinned requirement", () => {
    const problems = checkLock("uvicorn==0.30.0 \\\n    --hash=sha256:" + "a".repeat(64) + "\nclick==8.1.7\nh11>=0.14 \\\n    --hash=sha256:" + "b".repeat(64) + "\n");
    assert.deepEqual(problems, ["line 3: click==8.1.7 has no --hash=sha256: (pip --require-hashes would refuse it)", "line 4: h11>=0.14 is not pinned with =="]);
  });
});
