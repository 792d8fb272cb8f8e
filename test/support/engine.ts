import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { fleetCache } from "../../cache";
import { fleetEnv, runPulumi } from "../../cli/pulumi";
import { CANARY_ROLE, LABELS, PORTS_ROLE, TYPES } from "../../contract";
import { Ran, run, RunOptions } from "../../proc";
import { jsonLines } from "../../review/preview";
import { REPO } from "./project";

/** Where the toolchain and infrastructure scripts keep their binaries. */
export const FLEET_CACHE = fleetCache();

/** The environment a user's shell has after `source scripts/env.sh`, with a file backend of its own. */
export function engineEnv(stateDir: string): NodeJS.ProcessEnv {
  return fleetEnv({ ...process.env, FLEET_CACHE, PULUMI_BACKEND_URL: `file://${stateDir}`, PULUMI_CONFIG_PASSPHRASE: "" });
}

/** proc.ts run and Ran: a command to completion, never a throw on a non-zero exit. */
export { run } from "../../proc";
export type { Ran } from "../../proc";

/** Like proc's run, but fails with the command's output when it exits non-zero (a `--json` event stream's errors first). */
export function must(cmd: string, args: readonly string[], opts: RunOptions & { readonly cwd: string }): Ran {
  return succeeded(cmd, args, opts.cwd, run(cmd, args, opts));
}

/** How a test or the bench runs pulumi: in a checkout, with its own backend (engineEnv). */
export interface PulumiOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Killed after this many seconds. Defaults to 1800. */
  readonly timeoutSeconds?: number;
}

/** `pulumi ARGS --non-interactive` as the fleet commands run it (cli/pulumi.ts runPulumi); never throws on a non-zero exit, only on a missing CLI. */
export function pulumi(args: readonly string[], opts: PulumiOptions): Ran {
  return runPulumi(args, { cwd: opts.cwd, env: opts.env, timeoutSeconds: opts.timeoutSeconds ?? 1800 });
}

/** Like pulumi, but fails with the engine's errors when it exits non-zero. */
export function mustPulumi(args: readonly string[], opts: PulumiOptions): Ran {
  return succeeded("pulumi", args, opts.cwd, pulumi(args, opts));
}

function succeeded(cmd: string, args: readonly string[], cwd: string, r: Ran): Ran {
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status} in ${cwd}\n--- stdout\n${engineErrors(r.stdout) || tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`);
  return r;
}

/** The errors in a `pulumi ... --json` event stream, one per resource: what a failed run is about. */
function engineErrors(stdout: string): string {
  return jsonLines(stdout)
    .map((e) => e.diagnosticEvent)
    .filter((d) => d?.severity === "error")
    .map((d) => `${d.urn ? `${d.urn.split("::").pop()}: ` : ""}${d.message.trim()}`)
    .join("\n");
}

function tail(text: string, lines = 60): string {
  return text.split("\n").slice(-lines).join("\n");
}

/** One step the engine took on a resource, from an update's event log. */
export interface Step {
  readonly op: string;
  readonly urn: string;
  readonly type: string;
}

/**
 * The steps an update took, from the output of `pulumi up --json` (a stream of engine events, one
 * JSON object a line) or `pulumi preview --json` (one document with `steps`), leaving out "same"
 * and reads.
 */
export function changedSteps(json: string): Step[] {
  const keep = (m: { op: string; urn: string; type: string }) => !["same", "read", "refresh"].includes(m.op);
  try {
    const doc = JSON.parse(json);
    if (Array.isArray(doc.steps)) return doc.steps.filter(keep).map((m: Step) => ({ op: m.op, urn: m.urn, type: m.type ?? typeOf(m.urn) }));
  } catch {
    // not one document: an event stream
  }
  return jsonLines(json)
    .filter((e) => e.resourcePreEvent)
    .map((e) => e.resourcePreEvent.metadata)
    .filter(keep)
    .map((m) => ({ op: m.op, urn: m.urn, type: m.type }));
}

/**
 * When each resource's step began and ended in an update, as positions in its `pulumi up --json`
 * event stream: urn -> { began, ended } (the resource's pre and outputs events; -1 when absent).
 */
export function stepOrder(json: string): Map<string, { began: number; ended: number }> {
  const order = new Map<string, { began: number; ended: number }>();
  jsonLines(json).forEach((e, i) => {
    const event = e.resourcePreEvent ?? e.resOutputsEvent;
    const urn: string | undefined = event?.metadata?.urn;
    if (!urn) return;
    const seen = order.get(urn) ?? { began: -1, ended: -1 };
    order.set(urn, e.resourcePreEvent ? { ...seen, began: seen.began < 0 ? i : seen.began } : { ...seen, ended: i });
  });
  return order;
}

/** The resource type named in a URN: `urn:pulumi:stack::project::parent$type::name` -> `type`. */
export function typeOf(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.slice(qualified.lastIndexOf("$") + 1);
}

/** The diagnostics (errors and warnings) of `pulumi up --json` output, as text. */
export function diagnostics(json: string): string {
  return jsonLines(json)
    .filter((e) => e.diagnosticEvent)
    .map((e) => e.diagnosticEvent.message as string)
    .join("\n");
}

/** How many images an update's steps built. */
export function imagesBuilt(steps: readonly Step[]): number {
  return new Set(steps.filter((s) => s.type === TYPES.builtImage && /create|update|replace/.test(s.op)).map((s) => s.urn)).size;
}

/**
 * A checkout of the project at its HEAD commit in a new directory, made under `umask`, with the
 * project's node_modules linked in (unless `nodeModules: false`). `from` is the repository to clone.
 */
export function checkout(dir: string, umask: string, from: string = REPO, opts: { nodeModules?: boolean } = {}): string {
  must("sh", ["-c", `umask ${umask} && git clone -q "$0" "$1"`, from, dir], { cwd: os.tmpdir() });
  if (opts.nodeModules ?? true) fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/**
 * GET a URL on this machine on a connection of its own (no keep-alive pool: a pooled socket the
 * server has since closed would fail the request for a reason that is not the service's).
 */
export function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

/** A stack of its own for one test suite: nothing of it is shared with the fleet a user runs. */
export interface TestStack {
  /** The stack name; every container, volume and network is named from it. */
  readonly stack: string;
  /** The private Docker engine's host URL (scripts/engine.sh). */
  readonly dockerHost: string;
  /** The loopback address its ports are published on. */
  readonly bindAddress: string;
  /** The registry path its images go to. */
  readonly registry: string;
  /** `pulumi` with the suite's backend, on this stack. */
  pulumi(cwd: string, ...args: string[]): Ran;
  /** `pulumi stack init` of this stack in checkout `cwd`; fails the suite when it cannot. */
  init(cwd: string): void;
  /** The stack output `name` as JSON (`pulumi stack output NAME --json`); fails the suite when it cannot. */
  output<T>(cwd: string, name: string): T;
  /** `docker` on the suite's private engine. */
  docker(...args: string[]): Ran;
  /**
   * The stack's containers by service (a container is named after its settings too, so a
   * replacement has another name): service name -> container ID, of the running ones, or with
   * `all` of every one (a stopped or created one too). A canary is keyed `<service> canary <name>`,
   * the stack's ports "(the stack's ports)".
   */
  containers(opts?: { all?: boolean }): Record<string, string>;
}

/**
 * Sets up a suite's own namespace in checkout `dir`: a private Docker engine named `engine`, and
 * `Pulumi.<stack>.yaml` made from Pulumi.local.yaml with the engine, `bindAddress`, a registry
 * path of its own (`127.0.0.1:5000/<stack>` unless `registry` is given) and the `config` keys
 * given (without `fleet:`; null removes a key). The stack file is left uncommitted; commit it when
 * a second checkout must see it.
 */
export function testStack(dir: string, env: NodeJS.ProcessEnv, opts: { stack: string; engine: string; bindAddress: string; registry?: string; config?: Readonly<Record<string, unknown>> }): TestStack {
  const dockerHost = must("bash", ["scripts/engine.sh", "up", "docker", opts.engine], { cwd: dir, env }).stdout.trim();
  // The engine is the suite's own: start from nothing, whatever an earlier run left.
  const dockerEnv = { ...env, DOCKER_HOST: dockerHost };
  must("sh", ["-c", "ids=$(docker ps -aq); [ -z \"$ids\" ] || docker rm -f -v $ids >/dev/null; docker network prune -f >/dev/null; docker volume prune -f >/dev/null"], { cwd: dir, env: dockerEnv });
  const registry = opts.registry ?? `127.0.0.1:5000/${opts.stack}`;
  const doc = YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> };
  for (const [key, value] of Object.entries({ dockerHost, bindAddress: opts.bindAddress, registry, ...opts.config })) {
    if (value === null) delete doc.config[`fleet:${key}`];
    else doc.config[`fleet:${key}`] = value;
  }
  fs.writeFileSync(path.join(dir, `Pulumi.${opts.stack}.yaml`), YAML.stringify(doc));
  return {
    stack: opts.stack,
    dockerHost,
    bindAddress: opts.bindAddress,
    registry,
    pulumi: (cwd, ...args) => pulumi([...args, "--stack", opts.stack], { cwd, env, timeoutSeconds: 3600 }),
    init: (cwd) => void mustPulumi(["stack", "init", opts.stack], { cwd, env }),
    output: <T>(cwd: string, name: string) => JSON.parse(mustPulumi(["stack", "output", name, "--json", "--stack", opts.stack], { cwd, env }).stdout) as T,
    docker: (...args) => run("docker", args, { cwd: dir, env: dockerEnv }),
    containers: ({ all = false } = {}) => {
      const format = `{{.Label "${LABELS.service}"}}\t{{.Label "${LABELS.role}"}}\t{{.Names}}\t{{.ID}}`;
      const r = run("docker", ["ps", ...(all ? ["-a"] : []), "--filter", `label=${LABELS.stack}=${opts.stack}`, "--format", format], { cwd: dir, env: dockerEnv });
      if (r.status !== 0) throw new Error(`docker ps: ${r.stderr}`);
      const rows = r.stdout.split("\n").filter(Boolean).map((l) => l.split("\t"));
      return Object.fromEntries(rows.map(([service, role, name, id]) => [role === CANARY_ROLE ? `${service} canary ${name}` : role === PORTS_ROLE ? "(the stack's ports)" : service, id]));
    },
  };
}
