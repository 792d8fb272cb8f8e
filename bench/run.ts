/**
 * `npm run bench`: how long the main job takes and how many images it builds, against the peer
 * baseline of plain `docker build` in dependency order (the engine's own BuildKit; this machine has
 * no buildx plugin for `bake`). Needs `npm run infra` and `npm run toolchain` first. Writes
 * results/bench.json and prints a table.
 *
 * fleet: cold `up` (empty state, empty BuildKit cache, fresh registry path), no-op `up`, and an
 * `up` after one service's source changed. Peer: the same 15 images built cold (builder cache
 * pruned) and again warm, as a script that rebuilds on every run does.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { changedSteps, checkout, engineEnv, imagesBuilt, must, run } from "../test/support/engine";
import { REPO } from "../test/support/project";
import { buildCatalog } from "../catalog";
import { pipCaFile } from "../stack";

interface Row {
  readonly tool: string;
  readonly run: string;
  readonly seconds: number;
  readonly imagesBuilt: number;
}

function main(): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-"));
  const env = engineEnv(path.join(work, "state"));
  fs.mkdirSync(path.join(work, "state"));
  const registry = `127.0.0.1:5000/bench${Date.now()}`;
  const dir = checkout(path.join(work, "fleet"), "0022");
  must("bash", ["scripts/infra.sh"], { cwd: dir, env });
  const ceb = "services/central-error-bus";
  fs.cpSync(path.join(dir, "examples/reference-service"), path.join(dir, ceb), { recursive: true });
  const stackFile = path.join(dir, "Pulumi.local.yaml");
  fs.writeFileSync(stackFile, fs.readFileSync(stackFile, "utf8").replace(/fleet:registry: .*/, `fleet:registry: ${registry}`).replace(/^config:\n/m, `config:\n  fleet:sources: { CentralErrorBus: ${ceb} }\n`));
  must("pulumi", ["stack", "init", "local", "--non-interactive"], { cwd: dir, env });

  const rows: Row[] = [];
  const up = (label: string) => {
    const r = must("pulumi", ["up", "--yes", "--skip-preview", "--stack", "local", "--non-interactive", "--json"], { cwd: dir, env, timeoutSeconds: 3600 });
    rows.push({ tool: "fleet (pulumi up)", run: label, seconds: r.seconds, imagesBuilt: imagesBuilt(changedSteps(r.stdout)) });
  };

  pruneBuildCache(env);
  up("cold");
  up("no-op");
  fs.appendFileSync(path.join(dir, ceb, "app/__init__.py"), "\n# bench: one service changes\n");
  up("one service changed");
  must("pulumi", ["destroy", "--yes", "--stack", "local", "--non-interactive"], { cwd: dir, env });

  // Peer baseline: plain docker build in dependency order, tagging and pushing each image.
  const peer = (label: string) => {
    const start = Date.now();
    const built = peerBuild(dir, `${registry}-peer`, env);
    rows.push({ tool: "docker build (peer)", run: label, seconds: (Date.now() - start) / 1000, imagesBuilt: built });
  };
  must("docker", ["builder", "prune", "-af"], { cwd: dir, env });
  peer("cold");
  peer("warm rebuild");

  const out = { machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? "unknown cpu"}`, date: new Date().toISOString(), rows };
  fs.mkdirSync(path.join(REPO, "results"), { recursive: true });
  fs.writeFileSync(path.join(REPO, "results/bench.json"), JSON.stringify(out, null, 2) + "\n");
  console.log(`machine: ${out.machine}\n`);
  console.log("| tool | run | seconds | images built |\n|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.tool} | ${r.run} | ${r.seconds.toFixed(1)} | ${r.imagesBuilt} |`);
  fs.rmSync(work, { recursive: true, force: true });
}

/** Empties the fleet builder's cache so the next build is cold. */
function pruneBuildCache(env: NodeJS.ProcessEnv): void {
  must("buildctl", ["--addr", "unix:///run/buildkit/buildkitd.sock", "prune", "--all"], { cwd: os.tmpdir(), env });
}

/** Builds and pushes every family and service image with `docker build`, parents first; returns how many. */
function peerBuild(dir: string, registry: string, env: NodeJS.ProcessEnv): number {
  const catalog = buildCatalog();
  const base = fs.readFileSync(path.join(dir, ".fleet/base-image.ref"), "utf8").trim();
  const digestOf = (ref: string) => must("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://${ref}`], { cwd: dir, env }).stdout.trim();
  const refs = new Map<string, string>();
  const build = (tag: string, dockerfile: string, context: string, args: Record<string, string>) => {
    const ca = pipCaFile();
    const secret = ca ? ["--secret", `id=pip-ca,src=${ca}`] : [];
    const argv = ["build", "-q", "-f", dockerfile, "-t", tag, ...secret, ...Object.entries(args).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]), context];
    must("/usr/bin/docker", argv, { cwd: dir, env: { ...env, DOCKER_BUILDKIT: "1" }, timeoutSeconds: 3600 });
    must("/usr/bin/docker", ["push", "-q", tag], { cwd: dir, env });
    return `${tag.split(":").slice(0, -1).join(":")}@${digestOf(tag)}`;
  };
  let count = 0;
  for (const f of catalog.families) {
    const lock = `requirements/${f.name}${f.gpu ? ".cpu" : ""}.lock`;
    refs.set(f.name, build(`${registry}/${f.name}:peer`, `dockerfiles/${f.name}.Dockerfile`, "dockerfiles", { BASE: f.parent ? refs.get(f.parent)! : base, LOCK: lock }));
    count++;
  }
  for (const s of catalog.services) {
    const source = s.name === "CentralErrorBus" ? "services/central-error-bus" : "examples/reference-service";
    build(`${registry}/${s.name.toLowerCase()}:peer`, "dockerfiles/service.Dockerfile", source, { FAMILY: refs.get(s.family)!, SERVICE_NAME: s.name, SERVICE_PORT: String(s.ports.service), HEALTH_PORT: String(s.ports.health) });
    count++;
  }
  return count;
}

main();
