import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CANARY_ROLE, LABELS, TYPES } from "../contract";
import { FleetInputError } from "../errors";
import { run } from "../proc";
import { readStackConfig } from "../stack";
import { CliError, stackOption } from "./args";
import { defineCommand } from "./command";
import { fileBackendDir, fileLayouts, projectName } from "./historySource";
import { fleetEnv, lastLine, pulumiRunner } from "./pulumi";

/** What an interrupted update can leave behind, found by `findLeftovers`. */
export interface Leftovers {
  /** Files of a state write the kill cut short (file backend), removed so that the state reads again. */
  readonly cutWrites: readonly string[];
  /** Lock files of updates whose process is gone (same host, pid not running). */
  readonly staleLocks: readonly { readonly file: string; readonly pid: number }[];
  /** Operations the state records as started but never finished. */
  readonly pendingOperations: readonly { readonly type: string; readonly urn: string }[];
  /** Containers with the stack's labels that the state does not know (created, then the update died). */
  readonly orphans: readonly { readonly id: string; readonly name: string }[];
  /** Health canaries still there (each run removes its own; these outlived a killed run). */
  readonly canaries: readonly { readonly id: string; readonly name: string }[];
}

/** A container as `docker ps --format '{{json .}}'` lists it. */
export interface ListedContainer {
  readonly ID: string;
  readonly Names: string;
  readonly Labels: string;
}

/**
 * Pure: what is left over, from the stack's exported state and the containers on its engine that
 * carry its label. A container the state does not know is an orphan; a canary is always a
 * leftover between runs.
 */
export function leftoversOf(deployment: { resources?: { type: string; id?: string }[]; pending_operations?: { type: string; resource: { urn: string } }[] }, containers: readonly ListedContainer[]): Omit<Leftovers, "staleLocks" | "cutWrites"> {
  const known = new Set((deployment.resources ?? []).filter((r) => r.type === TYPES.container && r.id).map((r) => r.id!));
  const isCanary = (c: ListedContainer) => c.Labels.split(",").includes(`${LABELS.role}=${CANARY_ROLE}`);
  const fullId = (id: string) => [...known].find((k) => k.startsWith(id));
  return {
    pendingOperations: (deployment.pending_operations ?? []).map((p) => ({ type: p.type, urn: p.resource.urn })),
    canaries: containers.filter(isCanary).map((c) => ({ id: c.ID, name: c.Names })),
    orphans: containers.filter((c) => !isCanary(c) && !fullId(c.ID)).map((c) => ({ id: c.ID, name: c.Names })),
  };
}

/** Lock files of the file backend Pulumi uses (none on another backend) whose update process on this host is gone. */
function staleLocks(stack: string): { file: string; pid: number }[] {
  const backend = fileBackendDir(fleetEnv());
  if (!backend) return [];
  const dir = path.join(backend, ".pulumi", "locks");
  const out: { file: string; pid: number }[] = [];
  const walk = (d: string): void => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith(".json") && path.basename(d) === stack) {
        const lock = JSON.parse(fs.readFileSync(full, "utf8")) as { pid: number; hostname: string };
        let alive = true;
        try {
          process.kill(lock.pid, 0);
        } catch {
          alive = false;
        }
        if (lock.hostname === os.hostname() && !alive) out.push({ file: full, pid: lock.pid });
      }
    }
  };
  walk(dir);
  return out;
}

/**
 * A file backend writes a stack's state as a temporary file, then the state's `.attrs` sidecar
 * (JSON: content type and MD5), then renames the temporary file over the state. An update killed
 * in between leaves a sidecar cut short, which every later command refuses ("failed to load
 * checkpoint: EOF"), and the temporary file; the state itself is the last one written whole.
 * Removes both (without a sidecar the backend reads the state as it is), when the state parses.
 * Returns what it removed. `backend` is the file backend's folder (default the one Pulumi uses).
 */
export function removeCutWrites(projectDir: string, stack: string, backend: string | undefined = fileBackendDir(fleetEnv())): string[] {
  if (!backend) return [];
  const removed: string[] = [];
  for (const { stacks: dir } of fileLayouts(backend, projectName(projectDir), stack)) {
    const state = path.join(dir, `${stack}.json`);
    if (!fs.existsSync(state) || !parses(state)) continue;
    const tmp = `${stack}.json.`;
    const cut = fs.readdirSync(dir).filter((f) => f.startsWith(tmp) && /^[0-9a-f]+\.tmp$/.test(f.slice(tmp.length)));
    if (fs.existsSync(`${state}.attrs`) && !parses(`${state}.attrs`)) cut.push(`${stack}.json.attrs`);
    for (const f of cut) {
      fs.rmSync(path.join(dir, f));
      removed.push(path.join(dir, f));
    }
  }
  return removed;
}

function parses(file: string): boolean {
  try {
    JSON.parse(fs.readFileSync(file, "utf8"));
    return true;
  } catch {
    return false;
  }
}

/**
 * `fleet recover --stack S`: makes a stack whose last update was killed safe to update again, and
 * says what it cleaned: stale locks of dead processes, containers the update created but never
 * recorded (they hold the names and host ports the next update needs), leftover canaries, and the
 * interrupted operations in the state. `npm run up` runs it before every update; it changes
 * nothing when there is nothing to clean.
 */
export async function recover(projectDir: string, stack: string, log: (line: string) => void = console.log): Promise<Leftovers> {
  let dockerHost: string;
  try {
    dockerHost = readStackConfig(projectDir, stack).raw.dockerHost;
  } catch (e) {
    if (e instanceof FleetInputError) throw new CliError(`recover: ${e.problems.join("; ")}`);
    throw e;
  }
  const pulumi = pulumiRunner(projectDir);
  const locks = staleLocks(stack);
  // Only an update that died leaves a write cut short; one still running is mid-write.
  const cutWrites = locks.length ? removeCutWrites(projectDir, stack) : [];
  for (const f of cutWrites) log(`recover: removed ${f}, left by a state write the interrupted update did not finish`);
  if (locks.length) {
    const cancel = pulumi(["cancel", "--yes", "--stack", stack]);
    if (cancel.status !== 0) throw new CliError(`recover: could not remove the stale lock of stack ${stack}: ${lastLine(cancel.stderr)}`);
    for (const l of locks) log(`recover: removed the lock of an update whose process (pid ${l.pid}) is gone: ${l.file}`);
  }
  const exported = pulumi(["stack", "export", "--stack", stack]);
  if (exported.status !== 0) {
    if (/no stack named|not found/i.test(exported.stderr)) return { cutWrites, staleLocks: locks, pendingOperations: [], orphans: [], canaries: [] };
    throw new CliError(`recover: pulumi stack export --stack ${stack} failed: ${lastLine(exported.stderr)}`);
  }
  const state = JSON.parse(exported.stdout) as { version: number; deployment: Parameters<typeof leftoversOf>[0] & Record<string, unknown> };
  const onEngine = { env: { ...fleetEnv(), DOCKER_HOST: dockerHost } };
  const listed = run("docker", ["ps", "-a", "--no-trunc", "--filter", `label=${LABELS.stack}=${stack}`, "--format", "{{json .}}"], onEngine);
  if (listed.status !== 0) throw new CliError(`recover: cannot list the containers of stack ${stack} on ${dockerHost}: ${listed.stderr.trim()}`);
  const containers = listed.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as ListedContainer);
  const found = leftoversOf(state.deployment, containers);

  for (const c of [...found.orphans, ...found.canaries]) {
    const rm = run("docker", ["rm", "-f", ...(found.canaries.includes(c) ? ["-v"] : []), c.id], onEngine);
    if (rm.status !== 0) throw new CliError(`recover: could not remove container ${c.name}: ${rm.stderr.trim()}`);
  }
  found.orphans.forEach((c) => log(`recover: removed container ${c.name}, which an interrupted update created but never recorded`));
  found.canaries.forEach((c) => log(`recover: removed health canary ${c.name}, left by an interrupted update`));
  if (found.pendingOperations.length) {
    // The engine would otherwise warn about them on every update; their effects are swept above
    // (an unrecorded container) or converge on the next update (an interrupted replace or delete).
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-recover-")), "state.json");
    fs.writeFileSync(file, JSON.stringify({ ...state, deployment: { ...state.deployment, pending_operations: [] } }));
    const imported = pulumi(["stack", "import", "--stack", stack, "--file", file]);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    if (imported.status !== 0) throw new CliError(`recover: could not clear the interrupted operations of stack ${stack}: ${lastLine(imported.stderr)}`);
    for (const p of found.pendingOperations) log(`recover: cleared an interrupted ${p.type} of ${p.urn}`);
  }
  if (!locks.length && !found.orphans.length && !found.canaries.length && !found.pendingOperations.length) log(`recover: stack ${stack} has nothing left over from an interrupted update`);
  return { cutWrites, staleLocks: locks, ...found };
}

/** The `recover` command. */
export const command = defineCommand({
  name: "recover",
  summary: "clean up after an update that was killed (locks, unrecorded containers, canaries)",
  options: {
    stack: stackOption("the stack to clean up"),
  },
  async run(opts) {
    await recover(path.resolve(__dirname, ".."), opts.stack);
    return 0;
  },
});
