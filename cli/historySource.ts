import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import YAML from "yaml";
import { fleetCache } from "../cache";
import { CliError } from "./args";
import { Backend, credentialsFile, fleetEnv, pulumiJson, pulumiRunner, PulumiRunner, resolveBackend } from "./pulumi";
import { UpdateRecord } from "./stackHistory";

/**
 * Where a stack's history comes from: the one module that knows the backend, the one the Pulumi
 * CLI uses (cli/pulumi.ts resolveBackend: PULUMI_BACKEND_URL, else `pulumi login`, else fleet's
 * own). Per update Pulumi keeps two records, read into the same UpdateRecord from either backend:
 * - a file backend (`file://DIR`) has `<stack>-<nanos>.history.json` and the state after it,
 *   `<stack>-<nanos>.checkpoint.json`, under `DIR/.pulumi/history/<project>/<stack>/`;
 * - Pulumi Cloud (`https://...`) has them behind `pulumi stack history --json` and
 *   `pulumi stack export --version N` (a file backend cannot export a past version).
 * `run` runs pulumi for the cloud reader; by default in the project with fleetEnv(env). The cloud
 * reader keeps each finished update's export under FLEET_CACHE/history (see readCloudUpdates).
 */
export function readUpdates(projectDir: string, stack: string, env: NodeJS.ProcessEnv = process.env, run?: PulumiRunner): UpdateRecord[] {
  const backend = requireBackend(env);
  if (backend.url.startsWith("file://")) return readFileUpdates(fileDir(backend.url), projectName(projectDir), stack);
  if (isCloud(backend.url)) {
    const key = createHash("sha256").update(`${backend.url}\n${projectName(projectDir)}\n${stack}`).digest("hex").slice(0, 16);
    return readCloudUpdates(backend.url, stack, run ?? pulumiRunner(projectDir, fleetEnv(env)), path.join(fleetCache(env), "history", key));
  }
  throw new CliError(
    `the Pulumi backend is ${backend.url} (${backend.from}); fleet history, rollback and release read a file backend (file://DIR) or Pulumi Cloud (https://..., \`pulumi login\`)`,
  );
}

/** The directory of the backend the CLI uses when it is a file backend, else undefined. */
export function fileBackendDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = resolveBackend(env)?.url;
  return url?.startsWith("file://") ? fileDir(url) : undefined;
}

function requireBackend(env: NodeJS.ProcessEnv): Backend {
  const backend = resolveBackend(env);
  if (!backend) {
    throw new CliError(`no Pulumi backend: PULUMI_BACKEND_URL is not set and the Pulumi CLI is not logged in (${credentialsFile(env)}); run \`pulumi login\` (Pulumi Cloud) or \`pulumi login file://DIR\``);
  }
  return backend;
}

/** Pulumi Cloud, or a self-hosted Pulumi Cloud: the service's API over HTTP(S). */
function isCloud(url: string): boolean {
  return /^https?:\/\//.test(url);
}

function fileDir(url: string): string {
  return url.slice("file://".length).replace(/^~(?=\/|$)/, os.homedir()) || os.homedir();
}

/** Where a file backend keeps a stack's state (`stacks`) and its history: the project-scoped layout (Pulumi 3.61+), then the legacy one. */
export function fileLayouts(backend: string, project: string, stack: string): { stacks: string; history: string }[] {
  return [
    { stacks: path.join(backend, ".pulumi", "stacks", project), history: path.join(backend, ".pulumi", "history", project, stack) },
    { stacks: path.join(backend, ".pulumi", "stacks"), history: path.join(backend, ".pulumi", "history", stack) },
  ];
}

/** A file backend's records of a stack, oldest first: the project-scoped layout (Pulumi 3.61+), then the legacy one. */
export function readFileUpdates(backend: string, project: string, stack: string): UpdateRecord[] {
  const layouts = fileLayouts(backend, project, stack);
  const layout = layouts.find((l) => ["json", "json.gz"].some((ext) => fs.existsSync(path.join(l.stacks, `${stack}.${ext}`))));
  if (!layout) {
    const known = [...new Set(layouts.flatMap((l) => listStacks(l.stacks)))].sort();
    throw new CliError(`unknown stack "${stack}" in ${backend} (project ${project}); known stacks: ${known.join(", ") || "none"}`);
  }
  if (!fs.existsSync(layout.history)) return [];
  const files = fs.readdirSync(layout.history).filter((f) => f.startsWith(`${stack}-`) && /\.history\.json(\.gz)?$/.test(f));
  // The name's number is the time in nanoseconds: sort by it, not as text.
  const nanos = (f: string) => BigInt(/-(\d+)\.history\./.exec(f)?.[1] ?? "0");
  files.sort((a, b) => (nanos(a) < nanos(b) ? -1 : nanos(a) > nanos(b) ? 1 : 0));
  return files.map((f) => {
    const checkpoint = path.join(layout.history, f.replace(".history.", ".checkpoint."));
    return {
      source: path.join(layout.history, f),
      checkpointSource: checkpoint,
      history: readText(path.join(layout.history, f)),
      checkpoint: fs.existsSync(checkpoint) ? readText(checkpoint) : null,
    };
  });
}

/** One entry of `pulumi stack history --json` (the CLI's updateInfoJSON; the fields read here). */
interface CloudUpdate {
  readonly version: number;
  readonly kind: string;
  /** RFC 3339 with milliseconds, UTC. */
  readonly startTime: string;
  readonly endTime?: string;
  readonly message: string;
  readonly environment?: Record<string, string>;
  /** A secret without --show-secrets has no value, only `secret: true`. */
  readonly config?: Record<string, { readonly value?: string; readonly objectValue?: unknown; readonly secret?: boolean }>;
  readonly result?: string;
  readonly resourceChanges?: Record<string, number>;
}

// The CLI prints 10 updates a page unless told otherwise.
const PAGE_SIZE = 100;

/**
 * Pulumi Cloud's records of a stack, oldest first: every page of `pulumi stack history --json`,
 * and per update `pulumi stack export --version N`, turned into the file backend's shapes (an
 * UpdateInfo with `startTime` in seconds and plain config values; a checkpoint
 * `{ version, checkpoint: { latest: <deployment> } }`), so stackHistory.ts reads both alike.
 *
 * An export is one `pulumi` run against the service, a second or more each: with `cache` (a folder
 * of this backend, project and stack), a finished update's export is kept there, named by its
 * version and start time (a stack removed and made again numbers its updates from 1 anew), since
 * what an update left never changes. So `fleet history` and `rollback` ask the service for the
 * history and the updates made since the last time, not for every export again.
 */
export function readCloudUpdates(backend: string, stack: string, run: PulumiRunner, cache?: string): UpdateRecord[] {
  const updates: CloudUpdate[] = [];
  for (let page = 1; ; page++) {
    const got = pulumiJson<CloudUpdate[] | null>(run, ["stack", "history", "--json", "--stack", stack, "--page-size", String(PAGE_SIZE), "--page", String(page)]) ?? [];
    updates.push(...got);
    if (got.length < PAGE_SIZE) break;
  }
  // The service lists the newest first.
  updates.sort((a, b) => a.version - b.version);
  return updates.map((u) => {
    const exportArgs = ["stack", "export", "--version", String(u.version), "--stack", stack];
    // An update still running has no state of its own yet.
    const exported = u.result === "in-progress" ? null : kept(cache && path.join(cache, `${u.version}-${Date.parse(u.startTime)}.json`), () => pulumiJson<{ version: number; deployment: unknown }>(run, exportArgs));
    return {
      source: `${backend}: stack ${stack} update ${u.version} (pulumi stack history --json)`,
      checkpointSource: `${backend}: stack ${stack} update ${u.version} (pulumi ${exportArgs.join(" ")})`,
      history: JSON.stringify(updateInfo(u)),
      checkpoint: exported && JSON.stringify({ version: exported.version, checkpoint: { stack, latest: exported.deployment } }),
    };
  });
}

/** What `file` holds, else what `get` gives, written to `file` (atomically, readable by its owner only) for next time. */
function kept<T>(file: string | undefined, get: () => T): T {
  if (!file) return get();
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    // Not kept yet (or cut short): asked again below.
  }
  const value = get();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, JSON.stringify(value), { mode: 0o600 });
  fs.renameSync(partial, file);
  return value;
}

/** An update as the file backend's history file has it. */
function updateInfo(u: CloudUpdate): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  // A secret's value is not printed (and fleet's config has none): left out.
  for (const [k, v] of Object.entries(u.config ?? {})) if (v.objectValue !== undefined || v.value !== undefined) config[k] = v.objectValue ?? v.value;
  return {
    kind: u.kind,
    startTime: seconds(u.startTime),
    message: u.message,
    environment: u.environment ?? {},
    config,
    version: u.version,
    result: u.result,
    ...(u.endTime ? { endTime: seconds(u.endTime) } : {}),
    ...(u.resourceChanges ? { resourceChanges: u.resourceChanges } : {}),
  };
}

function seconds(time: string): number | undefined {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** The project's name, from Pulumi.yaml. */
export function projectName(projectDir: string): string {
  const file = path.join(projectDir, "Pulumi.yaml");
  const name = (YAML.parse(fs.readFileSync(file, "utf8")) as { name?: unknown })?.name;
  if (typeof name !== "string" || !name) throw new CliError(`${file}: name: must be the project's name`);
  return name;
}

function listStacks(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.json(\.gz)?$/.test(f) && !f.includes(".json.bak")).map((f) => f.replace(/\.json(\.gz)?$/, "")) : [];
}

function readText(file: string): string {
  const data = fs.readFileSync(file);
  return file.endsWith(".gz") ? zlib.gunzipSync(data).toString("utf8") : data.toString("utf8");
}
