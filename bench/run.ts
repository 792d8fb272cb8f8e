/**
 * `npm run bench`: the fleet against what a user would pick instead, `docker buildx bake` for the
 * image graph plus `docker compose up --wait` for the containers, in one run, on one BuildKit and
 * one registry, with the same Dockerfiles, locks, build args and container settings (the bake and
 * compose files are generated from the same resolved stack: bench/peerFiles.ts).
 *
 * Cases, each for both tools: cold (empty state, empty BuildKit cache, fresh registry path), no-op,
 * one service's source changed, and for the fleet that service rolled back (`fleet rollback`); then the same with the catalog multiplied (`--scale=N,...`,
 * default 50) to show how no-op and one-service times grow with the number of services
 * (`--scale-only` measures only that part, `--catalog-only` only the 10-service part, each keeping
 * the other part of the last record, which then names the commit of each). Images
 * built and containers replaced are counted from what the tools report. A breakdown of the fleet's
 * no-op `up` (where its seconds go) is written beside the rows.
 *
 * Isolation: stack `bench` in throw-away checkouts with their own state dirs, ports on 127.0.0.9,
 * images under 127.0.0.1:5000/bench-<run>/, and the bench's own Docker engine and BuildKit daemon
 * (bench/instances.ts), whose cache it empties for the cold runs. Needs `npm run infra` and
 * `npm run toolchain`; compiles buildx and compose once (cached like the toolchain).
 * Writes results/bench.json and prints the README tables.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildCatalog, SERVICES } from "../catalog";
import { parseImageRef, plainHttpTo } from "../registry";
import { contextPaths } from "../source/dockerfile";
import { contextFilesOf, pipCaContext, stageContext } from "../source/stage";
import { ResolvedFleet, resolveStack } from "../stack";
import { changedSteps, checkout, engineEnv, FLEET_CACHE, imagesBuilt, must, mustPulumi, run, testStack } from "../test/support/engine";
import { REPO } from "../test/support/project";
import { writeRecord } from "../test/support/results";
import { jsonLines } from "../review/preview";
import { bakeTargetsBuilt, composeContainersReplaced, fleetContainersReplaced, resourceSeconds } from "./counts";
import { countProblems, Row, Verdict, verdicts } from "./goals";
import { watchHealth } from "./outage";
import { buildkit } from "./instances";
import { bakeFile, composeFile } from "./peerFiles";
import { scaledServices, servicesModule } from "./scale";
import { fleetCommand } from "../test/support/cli";

const STACK = "bench";
const BIND = "127.0.0.9";
const BUILDER = "bench";
export const BUILDX = { name: "docker-buildx", module: "github.com/docker/buildx", version: "v0.38.2", pkg: "./cmd/buildx", ldflags: "-s -w -X github.com/docker/buildx/version.Version=v0.38.2" };
export const COMPOSE = { name: "docker-compose", module: "github.com/docker/compose/v2", version: "v2.40.3", pkg: "./cmd", ldflags: "-s -w -X github.com/docker/compose/v2/internal.Version=v2.40.3" };
/** The service whose source the one-service case edits. */
const CHANGED = { name: "CentralErrorBus", dir: "services/central-error-bus" };

/** A throw-away checkout with a `bench` stack of its own. */
interface Checkout {
  readonly dir: string;
  readonly services: number;
  readonly env: NodeJS.ProcessEnv;
  readonly registry: string;
}

const round = (s: number) => Math.round(s * 10) / 10;

/** The machine's 1- and 5-minute loads when the row being measured started (settle sets it). */
let rowStart: [number, number] | undefined;

/**
 * Waits up to two minutes for the 1-minute load to come down to the number of cores (the row
 * before decays slowly), then records the load the next row starts at. A row's own work raises the
 * load it ends at, so only its start says what else was running.
 */
async function settle(say: (line: string) => void): Promise<void> {
  const cores = os.cpus().length;
  const deadline = Date.now() + 120_000;
  while (os.loadavg()[0] > cores && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5000));
  const [one, five] = os.loadavg();
  rowStart = [round(one), round(five)];
  say(`the next row starts at load ${rowStart.join(", ")}`);
}
let marksSeq = 0;

async function main(): Promise<void> {
  const scales = (process.argv.find((a) => a.startsWith("--scale="))?.slice(8) ?? "50").split(",").map(Number).filter((n) => n > 0);
  // The commit measured: every checkout below is cloned from it.
  const revision = must("git", ["rev-parse", "HEAD"], { cwd: REPO }).stdout.trim();
  const loadAtStart = os.loadavg();
  const runId = `bench-${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-"));
  const say = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

  const buildx = goTool(BUILDX);
  const compose = goTool(COMPOSE);
  say(`buildx ${buildx}; compose ${compose}`);
  // The vulnerability gate's database, as `npm run up` picks it (a fixture-built one of the bench's
  // own where Trivy's cannot be downloaded).
  process.env.FLEET_SCAN_DB_DIR ??= must("bash", ["scripts/scan-db.sh"], { cwd: REPO, timeoutSeconds: 3600 }).stdout.trim();
  say(`vulnerability database: ${process.env.FLEET_SCAN_DB_DIR || "Trivy's own"}`);
  // --scale-only: only the scale case, with the 10-service rows of the last results/bench.json;
  // --catalog-only: only the 10-service case, with the scale rows of the last one. Either is a run
  // of its own, and the record names the commit and time each set of rows was measured at.
  const scaleOnly = process.argv.includes("--scale-only");
  const catalogOnly = process.argv.includes("--catalog-only");
  const previous = scaleOnly || catalogOnly ? (JSON.parse(fs.readFileSync(path.join(REPO, "results/bench.json"), "utf8")) as PreviousRecord) : undefined;
  const rows: Row[] = previous ? previous.rows.filter((r) => (r.services === SERVICES.length) === scaleOnly) : [];
  const now = new Date().toISOString();
  // Each row is also appended to results/bench.partial.jsonl as it is measured, so a run that is
  // stopped halfway keeps what it measured; the complete run removes it.
  const partial = path.join(REPO, "results/bench.partial.jsonl");
  fs.mkdirSync(path.dirname(partial), { recursive: true });
  fs.writeFileSync(partial, "");
  const keep = (measured: Row) => {
    const [one, five] = os.loadavg();
    const row: Row = { ...measured, load: [round(one), round(five)], ...(rowStart ? { loadAtStart: rowStart } : {}) };
    rowStart = undefined;
    rows.push(row);
    fs.appendFileSync(partial, `${JSON.stringify({ revision, ...row })}\n`);
  };
  const { breakdown, stateBytesPerService } = scaleOnly ? { breakdown: previous!.noopBreakdown, stateBytesPerService: previous!.stateBytesPerService } : await compareAtCatalogSize(work, runId, buildx, compose, keep, say);

  // ---- scale: the catalog multiplied, warm builder ----------------------------------------
  for (const n of catalogOnly ? [] : scales) {
    // The builder stays warm from the rows above; a --scale-only run starts it (keeping its cache).
    await buildkit(BUILDER, { empty: false });
    const big = prepare(work, `scale-${n}`, runId, n);
    // Each row starts on a settled machine, as the 10-service rows do: its ratio to them needs loads alike.
    say(`scale ${n}: fleet first up, no-op, one service changed`);
    await settle(say);
    keep(fleetUp(big, work, "first up (warm builder)"));
    await settle(say);
    keep(fleetUp(big, work, "no-op"));
    editSource(big, "one");
    await settle(say);
    keep(fleetUp(big, work, "one service changed"));
    mustPulumi(["destroy", "--yes", "--stack", STACK], { cwd: big.dir, env: big.env, timeoutSeconds: 3600 });
    resetSource(big);
    say(`scale ${n}: bake + compose first up, no-op, one service changed`);
    await settle(say);
    keep(await peerUp(big, buildx, compose, "first up (warm builder)"));
    await settle(say);
    keep(await peerUp(big, buildx, compose, "no-op"));
    editSource(big, "one");
    await settle(say);
    keep(await peerUp(big, buildx, compose, "one service changed"));
    peerDown(big, compose);
  }

  const problems = countProblems(rows, SERVICES.length);
  const report = {
    ...(problems.length ? { problems } : {}),
    system: machine(),
    date: scaleOnly ? previous!.date : now,
    ...(previous ? { rowsFrom: rowsFrom(previous, { commit: revision, at: now }, scaleOnly) } : {}),
    loadAverage: { start: loadAtStart, end: os.loadavg() },
    tools: { pulumi: firstLine(mustPulumi(["version"], { cwd: REPO, env: engineEnv(work) }).stdout), buildx: BUILDX.version, compose: COMPOSE.version, buildkit: "bench's own buildkitd (same binary as the shared one)" },
    notes: [
      "fleet runs `pulumi up --yes --skip-preview`; bake + compose runs `docker buildx bake` (targets push, registry cache like the fleet's) then `docker compose up -d --wait --pull always`.",
      "Cold: empty state, an emptied BuildKit (the bench's own daemon), a fresh registry path. The fleet also canary-tests every new image before its container starts.",
      "Images built: the fleet counts the image builds it ran (docker-build Image created or updated); bake counts targets that ran a Dockerfile step instead of taking it from the cache.",
      "Seconds carry the noise of whatever else ran on the machine: each row has the 1- and 5-minute load averages at its end, and a ratio of rows run at different loads is marked not comparable; counts do not.",
      ...(previous ? [`The ${scaleOnly ? "10-service" : "scale"} rows come from an earlier run than the ${scaleOnly ? "scale" : "10-service"} rows (rowsFrom).`] : []),
    ],
    rows,
    stateBytesPerService,
    ratios: verdicts(rows, { services: SERVICES.length, cores: os.cpus().length, stateBytesPerService }),
    noopBreakdown: breakdown,
    scale: scaleTable(rows),
  };
  writeRecord("bench", problems.length === 0, report, { commit: revision });
  print({ ...report, commit: revision, passed: problems.length === 0 });
  if (problems.length) process.exitCode = 1;
  fs.rmSync(partial, { force: true });
  fs.rmSync(work, { recursive: true, force: true });
  // The bench's own Docker engine and BuildKit daemon stop with it (their data stays, under
  // $FLEET_CACHE/instances, for the next run); the shared ones of `npm run infra` are not its.
  for (const [kind, name] of [["docker", STACK], ["buildkit", BUILDER]]) run("bash", ["scripts/engine.sh", "down", kind, name], { cwd: REPO, timeoutSeconds: 120 });
}

/** What a --scale-only or --catalog-only run reads of the record before it. */
interface PreviousRecord {
  readonly rows: Row[];
  readonly noopBreakdown: Record<string, unknown>;
  readonly stateBytesPerService?: number;
  readonly commit: string;
  readonly date: string;
  readonly at?: string;
  readonly scaleMeasuredAt?: string;
  readonly rowsFrom?: RowsFrom;
}

/** The commit and time each set of rows of a record was measured at. */
interface RowsFrom {
  readonly "10 services": { readonly commit: string; readonly at: string };
  readonly scale: { readonly commit: string; readonly at: string };
}

/**
 * Where each set of rows comes from when a run measured one set (`now`) and kept the other from the
 * record before it, which may itself say (rowsFrom; a record before that field named its commit and,
 * for a --scale-only run, scaleMeasuredAt).
 */
function rowsFrom(previous: PreviousRecord, now: { commit: string; at: string }, scaleOnly: boolean): RowsFrom {
  const before: RowsFrom = previous.rowsFrom ?? {
    "10 services": { commit: previous.scaleMeasuredAt ? "unrecorded" : previous.commit, at: previous.date },
    scale: { commit: previous.commit, at: previous.scaleMeasuredAt ?? previous.at ?? previous.date },
  };
  return scaleOnly ? { ...before, scale: now } : { ...before, "10 services": now };
}

/**
 * Both tools on the catalog as it is: cold, no-op (taken apart by noopBreakdown), one service
 * changed. Adds the rows and returns the no-op breakdown.
 */
async function compareAtCatalogSize(work: string, runId: string, buildx: string, compose: string, keep: (row: Row) => void, say: (line: string) => void): Promise<{ breakdown: Record<string, unknown>; stateBytesPerService: number }> {
  // ---- the fleet as the catalog has it: cold, no-op, one service changed --------------------
  const ck = prepare(work, "main", runId, SERVICES.length);
  say(`fleet: cold up on an empty builder (${ck.dir})`);
  await buildkit(BUILDER, { empty: true });
  await settle(say);
  keep(fleetUp(ck, work, "cold"));
  say("fleet: no-op up");
  await settle(say);
  const noop = fleetUp(ck, work, "no-op");
  keep(noop);
  const breakdown = noopBreakdown(ck, work, noop);
  // The state as a backend stores it (one line of JSON); `stack export` indents it by half again.
  const exported = must("pulumi", ["stack", "export", "--stack", STACK, "--non-interactive"], { cwd: ck.dir, env: ck.env }).stdout;
  const stateBytesPerService = Math.round(JSON.stringify(JSON.parse(exported)).length / ck.services);
  const beforeChange = fleetHistory(ck).length;
  editSource(ck, "one");
  say("fleet: one service changed");
  await settle(say);
  keep(whileWatched(ck, work, () => fleetUp(ck, work, "one service changed")));
  say("fleet: the changed service rolled back to the update before the change");
  await settle(say);
  keep(fleetRollback(ck, work, beforeChange));
  mustPulumi(["destroy", "--yes", "--stack", STACK], { cwd: ck.dir, env: ck.env, timeoutSeconds: 1800 });

  // ---- the peers on the same files, builder emptied again ---------------------------------
  say("bake + compose: cold, on an empty builder");
  await buildkit(BUILDER, { empty: true });
  resetSource(ck);
  await settle(say);
  keep(await peerUp(ck, buildx, compose, "cold"));
  say("bake + compose: no-op");
  await settle(say);
  keep(await peerUp(ck, buildx, compose, "no-op"));
  editSource(ck, "one");
  say("bake + compose: one service changed");
  await settle(say);
  const peerOne = await (async () => {
    const stop = watchHealth(healthUrl(), path.join(work, "outage-peer.json"));
    const row = await peerUp(ck, buildx, compose, "one service changed");
    return { ...row, outage: stop() };
  })();
  keep(peerOne);
  peerDown(ck, compose);
  return { breakdown, stateBytesPerService };
}

/** The changed service's health endpoint on the bench address. */
function healthUrl(): string {
  const s = SERVICES.find((x) => x.name === CHANGED.name)!;
  return `http://${BIND}:${s.ports.health}/health`;
}

/** A fleet row measured while the changed service's health port is polled every 50 ms. */
function whileWatched(ck: Checkout, work: string, measure: () => Row): Row {
  const stop = watchHealth(healthUrl(), path.join(work, `outage-${++marksSeq}.json`));
  const row = measure();
  return { ...row, outage: stop() };
}

/** Compiles (once) and returns the path of a Go-built peer tool. */
export function goTool(t: typeof BUILDX): string {
  return must("bash", [path.join(REPO, "scripts/go-tool.sh"), t.name, t.module, t.version, t.pkg, t.ldflags], { cwd: REPO, timeoutSeconds: 7200 }).stdout.trim().split("\n").pop()!;
}

/**
 * A checkout under umask 0022 with a `bench` stack: images to `<runId>/fleet` (the peers' to
 * `<runId>/peer`), ports on 127.0.0.9, the bench's engine and builder, CentralErrorBus built from a
 * copy of the reference service (the one-service case edits it), and `services` catalog entries.
 */
export function prepare(work: string, name: string, runId: string, services: number): Checkout {
  const dir = checkout(path.join(work, name), "0022");
  const state = path.join(work, `state-${name}`);
  fs.mkdirSync(state);
  must("bash", ["scripts/infra.sh"], { cwd: dir, env: engineEnv(state), timeoutSeconds: 1800 });
  fs.cpSync(path.join(dir, "examples/reference-service"), path.join(dir, CHANGED.dir), { recursive: true });
  if (services !== SERVICES.length) {
    fs.writeFileSync(path.join(dir, "catalog/services.ts"), servicesModule(scaledServices(SERVICES, services)));
    const profile = path.join(dir, "profiles/local.json");
    const p = JSON.parse(fs.readFileSync(profile, "utf8"));
    p.machine.memoryMiB = Math.max(p.machine.memoryMiB, services * p.limits.gpu.memoryMiB);
    fs.writeFileSync(profile, `${JSON.stringify(p, null, 2)}\n`);
  }
  const registry = `127.0.0.1:5000/${runId}/${name}`;
  const ns = testStack(dir, engineEnv(state), {
    stack: STACK,
    engine: STACK,
    bindAddress: BIND,
    registry: `${registry}/fleet`,
    // A loaded machine (other suites run beside the bench) can take minutes to start a service;
    // compose --wait waits without limit, so the fleet gets time too.
    config: { builder: BUILDER, sources: { [CHANGED.name]: CHANGED.dir }, healthTimeoutSeconds: 300 },
  });
  const env = { ...engineEnv(state), DOCKER_HOST: ns.dockerHost };
  mustPulumi(["stack", "init", STACK], { cwd: dir, env });
  // What `npm ci` does for a user (package.json "prepare"): the project's TypeScript transpiled
  // once, so no measured command pays for the compiler (a scaled catalog is a file of its own).
  must("node", ["load.js", "--warm"], { cwd: dir });
  return { dir, services, env, registry };
}

/** Appends a line to the changed service's source: a new image for it alone. */
export function editSource(ck: Checkout, what: string): void {
  fs.appendFileSync(path.join(ck.dir, CHANGED.dir, "app/__init__.py"), `\n# bench: ${what} service changes at ${Date.now()}\n`);
}

/** Puts the changed service's source back as the reference service has it. */
export function resetSource(ck: Checkout): void {
  fs.copyFileSync(path.join(ck.dir, "examples/reference-service/app/__init__.py"), path.join(ck.dir, CHANGED.dir, "app/__init__.py"));
}

/** One `pulumi up` of the bench stack, timed, with its counts and the program's phase marks. */
export function fleetUp(ck: Checkout, work: string, label: string, opts: { preview?: boolean; env?: NodeJS.ProcessEnv } = {}): Row {
  const args = ["up", "--yes", "--stack", STACK, "--json", ...(opts.preview ? [] : ["--skip-preview"])];
  return fleetRow(ck, work, label, (env) => mustPulumi(args, { cwd: ck.dir, env: { ...env, ...opts.env }, timeoutSeconds: 7200 }));
}

/** The bench stack's updates, as `fleet history --json` gives them. */
function fleetHistory(ck: Checkout): unknown[] {
  return JSON.parse(must(...fleetCommand("history", "--stack", STACK, "--json"), { cwd: ck.dir, env: ck.env }).stdout);
}

/**
 * `fleet rollback --to N --service CHANGED --yes`, timed as a user runs it (the command line's own
 * start, the registry check and its `pulumi up`), with its counts.
 */
function fleetRollback(ck: Checkout, work: string, to: number): Row {
  const stackFile = path.join(ck.dir, `Pulumi.${STACK}.yaml`);
  const unpinned = fs.readFileSync(stackFile, "utf8");
  const command = fleetCommand("rollback", "--stack", STACK, "--to", String(to), "--service", CHANGED.name, "--yes", "--", "--json", "--skip-preview");
  const row = fleetRow(ck, work, "rollback of one service", (env) => must(...command, { cwd: ck.dir, env, timeoutSeconds: 3600 }));
  // The pin stays in the stack's state; the peers read the stack file for their own images.
  fs.writeFileSync(stackFile, unpinned);
  return row;
}

/** A fleet row: `run` (given the checkout's env with the phase marks' file) timed, its counts from its `--json` events, its phases. */
function fleetRow(ck: Checkout, work: string, label: string, run: (env: NodeJS.ProcessEnv) => { stdout: string }): Row {
  const marks = path.join(work, `marks-${++marksSeq}.jsonl`);
  const start = Date.now();
  const r = run({ ...ck.env, FLEET_TIMINGS: marks });
  const end = Date.now();
  const steps = changedSteps(r.stdout);
  return {
    tool: "fleet",
    case: label,
    services: ck.services,
    seconds: round((end - start) / 1000),
    imagesBuilt: imagesBuilt(steps),
    containersReplaced: fleetContainersReplaced(steps),
    parts: phasesOf(marks, start, end),
    resources: resourceSeconds(jsonLines(r.stdout)),
  };
}

/**
 * Where one `pulumi up` spent its time, from the program's marks (timings.ts): for a rollback, first
 * the command line's own steps (npm starting it, its modules, the stack's history, the registry
 * check, the stack file); before the program
 * started (CLI, backend, language host), loading modules (the program's TypeScript through load.js, the SDK
 * and providers' JavaScript), resolving the stack (config, profile, inputs digests), declaring the
 * resources (staging contexts, registering), then the engine working while the program waits
 * (provider plugins, per-resource diffs, builds, containers), and after the program exits (state
 * write). With a preview pass the program runs twice; each run is listed.
 */
function phasesOf(file: string, start: number, end: number): Record<string, number> {
  if (!fs.existsSync(file)) return {};
  const marks = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { phase: string; at: number });
  const out: Record<string, number> = {};
  const runs = marks.filter((m) => m.phase === "node-start").length;
  let prev = start;
  let run = 0;
  const names: Record<string, string> = {
    "cli-start": "npm starting the command line",
    "cli-loaded": "node loading the command line (load.js, its modules)",
    "history-read": "reading the stack's history from the backend",
    "images-checked": "asking the registry for the pinned digests",
    "pins-saved": "pinning the stack file, finding the resources to target",
    "node-start": "before the program (CLI, backend, language host)",
    "program-loaded": "loading modules (the program through load.js, SDK, providers)",
    "stack-resolved": "resolving the stack (config, inputs digests)",
    "preflight-done": "preflight (registry, BuildKit, engine reachable)",
    "resources-declared": "declaring resources (context staging, registration)",
    "program-exit": "engine while the program waits (plugins, diffs, builds, containers)",
  };
  for (const m of marks) {
    if (m.phase === "node-start") run++;
    const key = `${runs > 1 ? `program run ${run}: ` : ""}${names[m.phase] ?? m.phase}`;
    out[key] = round((m.at - prev) / 1000);
    prev = m.at;
  }
  out["after the program (engine finishing, state write)"] = round((end - prev) / 1000);
  return out;
}

/**
 * The no-op `up` taken apart: the phases of the measured run, plus what each suspect costs alone:
 * the CLI starting (`pulumi version`), the preview pass (`up` without --skip-preview, and
 * `pulumi preview`), the program's TypeScript transpiled afresh (load.js's cache emptied, as after
 * an edit of every file), resolving the stack (inputs digests) and the context staging and hashing,
 * each timed on its own.
 */
function noopBreakdown(ck: Checkout, work: string, noop: Row): Record<string, unknown> {
  const time = (f: () => unknown) => {
    const t = Date.now();
    f();
    return round((Date.now() - t) / 1000);
  };
  const withPreview = fleetUp(ck, work, "no-op with preview", { preview: true });
  fs.rmSync(transpileCache(ck.dir), { recursive: true, force: true });
  const transpiled = fleetUp(ck, work, "no-op, program transpiled afresh");
  const noCheckpoints = fleetUp(ck, work, "no-op, no intermediate checkpoints", { env: { PULUMI_SKIP_CHECKPOINTS: "true" } });
  const fleet = resolved(ck.dir, `${ck.registry}/fleet`);
  const images = fleet.families.length + fleet.services.length;
  const stageRoot = path.join(work, "stage-timing");
  const stageAll = () => {
    for (const f of fleet.families) {
      const text = fs.readFileSync(path.join(ck.dir, f.dockerfile), "utf8");
      const wanted = [...contextPaths(text, { LOCK: f.lock }), ".dockerignore"];
      stageContext(contextFilesOf(path.join(ck.dir, "dockerfiles")).filter((x) => wanted.some((w) => w === "." || x.rel === w || x.rel.startsWith(`${w}/`))), stageRoot);
    }
    for (const s of fleet.services) stageContext(contextFilesOf(path.join(ck.dir, s.source!)), stageRoot);
  };
  return {
    noopSeconds: noop.seconds,
    phases: noop.parts,
    alone: {
      "pulumi CLI start (pulumi version)": round(mustPulumi(["version"], { cwd: ck.dir, env: ck.env }).seconds),
      "pulumi preview (no changes)": round(mustPulumi(["preview", "--stack", STACK], { cwd: ck.dir, env: ck.env }).seconds),
      "no-op up with the preview pass": withPreview.seconds,
      "no-op up with the program's TypeScript transpiled afresh (empty cache)": transpiled.seconds,
      "no-op up without intermediate state checkpoints (PULUMI_SKIP_CHECKPOINTS)": noCheckpoints.seconds,
      [`resolving the stack with the inputs digests of ${images} images`]: time(() => resolved(ck.dir, `${ck.registry}/fleet`)),
      [`staging and hashing ${images} contexts, first time`]: time(stageAll),
      [`staging and hashing ${images} contexts, already staged`]: time(stageAll),
    },
    countsOfTheExtraRuns: { withPreview: [withPreview.imagesBuilt, withPreview.containersReplaced], transpiled: [transpiled.imagesBuilt, transpiled.containersReplaced], noCheckpoints: [noCheckpoints.imagesBuilt, noCheckpoints.containersReplaced] },
    phasesOfTheExtraRuns: { withPreview: withPreview.parts, transpiled: transpiled.parts, noCheckpoints: noCheckpoints.parts },
  };
}

/** Where the checkout's load.js keeps the project's transpiled JavaScript (its `CACHE`; requiring it makes this process load TypeScript through it too, with the same output). */
function transpileCache(dir: string): string {
  return (require(path.join(dir, "load.js")) as { CACHE: string }).CACHE;
}

/** The checkout's bench stack resolved with its images under `registry`. */
export function resolved(dir: string, registry: string): ResolvedFleet {
  return resolveStack(dir, STACK, { overrides: { registry }, catalog: buildCatalog(undefined, require(path.join(dir, "catalog/services.ts")).SERVICES) });
}

/** One `docker buildx bake` + `docker compose up -d --wait` of the same stack, timed, with counts from their output. */
export async function peerUp(ck: Checkout, buildx: string, compose: string, label: string): Promise<Row> {
  const fleet = resolved(ck.dir, `${ck.registry}/peer`);
  // Bake pushes over plain HTTP exactly where the program does (registry/trust.ts).
  const registryPlainHttp = await plainHttpTo(parseImageRef(fleet.registry).host, fleet.dockerHost);
  const pipCa = pipCaContext(fleet.pipCaFile);
  fs.writeFileSync(path.join(ck.dir, "bench.bake.json"), `${JSON.stringify(bakeFile(fleet, ck.dir, registryPlainHttp, pipCa), null, 2)}\n`);
  fs.writeFileSync(path.join(ck.dir, "bench.compose.json"), `${JSON.stringify(composeFile(fleet, `fleet-${STACK}-peer`), null, 2)}\n`);
  // docker-build pushes no provenance attestation; neither does bake here, so both push the same.
  const env = { ...ck.env, BUILDX_NO_DEFAULT_ATTESTATIONS: "1" };
  // bake asks before reading a folder outside the project: the staged pip-ca context.
  const allow = [`--allow=fs.read=${pipCa}`];
  const bake = must(buildx, ["bake", "--builder", BUILDER, "-f", "bench.bake.json", "--progress", "rawjson", ...allow], { cwd: ck.dir, env, timeoutSeconds: 7200 });
  const up = must(compose, ["-f", "bench.compose.json", "--progress", "plain", "up", "-d", "--wait", "--pull", "always"], { cwd: ck.dir, env, timeoutSeconds: 3600 });
  return {
    tool: "bake + compose",
    case: label,
    services: ck.services,
    seconds: round(bake.seconds + up.seconds),
    imagesBuilt: bakeTargetsBuilt(bake.stderr + bake.stdout).length,
    containersReplaced: composeContainersReplaced(up.stderr + up.stdout).length,
    parts: { bake: round(bake.seconds), "compose up --wait": round(up.seconds) },
  };
}

export function peerDown(ck: Checkout, compose: string): void {
  must(compose, ["-f", "bench.compose.json", "down", "--volumes"], { cwd: ck.dir, env: ck.env, timeoutSeconds: 600 });
}

/** No-op and one-service seconds by number of services, per tool, and the growth per added service. */
function scaleTable(rows: readonly Row[]): unknown[] {
  const out: unknown[] = [];
  for (const tool of ["fleet", "bake + compose"] as const) {
    for (const c of ["no-op", "one service changed"]) {
      const pts = rows.filter((r) => r.tool === tool && r.case === c).map((r) => ({ services: r.services, seconds: r.seconds }));
      if (pts.length < 2) continue;
      const [a, b] = [pts[0], pts[pts.length - 1]];
      out.push({ tool, case: c, points: pts, secondsPerAddedService: round(((b.seconds - a.seconds) / (b.services - a.services)) * 100) / 100, ratioOfTimes: round(b.seconds / a.seconds), ratioOfServices: b.services / a.services });
    }
  }
  return out;
}

function machine(): string {
  return `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? "unknown cpu"}, ${os.type()} ${os.release()}`;
}

const firstLine = (s: string) => s.trim().split("\n")[0];

function print(report: { commit: string; system: string; passed: boolean; problems?: string[]; rows: readonly Row[]; ratios: Record<string, Verdict>; noopBreakdown: Record<string, unknown> }): void {
  console.log(`commit ${report.commit}; machine: ${report.system}\n`);
  console.log("| tool | services | case | seconds | images built | containers replaced | load (1, 5 min) |\n|---|---|---|---|---|---|---|");
  for (const r of report.rows) console.log(`| ${r.tool} | ${r.services} | ${r.case} | ${r.seconds.toFixed(1)} | ${r.imagesBuilt} | ${r.containersReplaced} | ${r.load?.join(", ") ?? ""} |`);
  console.log("\n| goal | value | target | met |\n|---|---|---|---|");
  for (const [k, v] of Object.entries(report.ratios)) console.log(`| ${k} | ${v.value ?? "-"} | ${v.goal} | ${v.met === null ? `no verdict: ${v.note}` : v.met ? "yes" : "no"} |`);
  console.log(`\nno-op breakdown:\n${JSON.stringify(report.noopBreakdown, null, 2)}`);
  console.log(report.passed ? "\nbench: every case did what it should (counts)" : `\nbench: FAILED: ${report.problems!.join("; ")}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`bench: ${(err as Error).message}`);
    process.exit(1);
  });
}
