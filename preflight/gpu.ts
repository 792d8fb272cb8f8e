import * as fs from "fs";
import * as path from "path";
import { fleetCache } from "../cache";
import { failure, run as runCommand } from "../proc";
import { Profile } from "../profiles";
import { ResolvedFleet } from "../stack";

/**
 * The GPU preflight: before any container of a GPU stack changes, the target engine must be able
 * to give containers a GPU (the NVIDIA runtime or CDI devices), the GPUs the profile names must
 * exist there, and the VRAM budgets of the GPU services placed on one card must fit its memory.
 * The parsing and the checks are pure (unit tested against recorded nvidia-smi output); only
 * `gpuPreflight` talks to the engine.
 */

/** The nvidia-smi query the preflight runs; the fixtures in test/fixtures/nvidia-smi/ answer it. */
export const NVIDIA_SMI_QUERY = ["--query-gpu=index,name,memory.total,memory.used,driver_version", "--format=csv"];

/** One GPU as nvidia-smi reports it. */
export interface SmiGpu {
  readonly index: number;
  readonly name: string;
  /** Total video memory, MiB. */
  readonly memoryTotalMiB: number;
  /** Video memory in use, MiB (other processes), when reported. */
  readonly memoryUsedMiB?: number;
  readonly driverVersion?: string;
}

/** What the engine says about GPU support. */
export interface EngineGpuSupport {
  /** The engine's name and version, for messages. */
  readonly engine: string;
  /** Whether a runtime named `nvidia` is registered. */
  readonly nvidiaRuntime: boolean;
  /** CDI devices the engine discovered (`nvidia.com/gpu=0`...), Docker 28 and later. */
  readonly cdiDevices: readonly string[];
}

/** A GPU service's demand on one card. */
export interface GpuDemand {
  readonly service: string;
  /** The host GPU index it runs on (its first requested device: where CUDA allocates by default). */
  readonly card: number;
  readonly vramMiB: number;
}

/** A failed preflight: every problem, one line each, and nothing has changed yet. */
export class PreflightError extends Error {
  constructor(
    public readonly stack: string,
    public readonly problems: readonly string[],
  ) {
    super(`fleet: stack ${stack} cannot run on its Docker host; nothing was changed:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "PreflightError";
  }
}

/** Parses `nvidia-smi --query-gpu=index,name,memory.total[,...] --format=csv[,noheader][,nounits]`. */
export function parseNvidiaSmiCsv(text: string): SmiGpu[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (!lines.length) throw new Error("nvidia-smi printed nothing");
  const DEFAULT = ["index", "name", "memory.total", "memory.used", "driver_version"];
  const hasHeader = /^index\b/.test(lines[0]);
  const columns = hasHeader ? lines[0].split(",").map((c) => c.trim().replace(/\s*\[.*\]$/, "")) : DEFAULT;
  const col = (name: string) => columns.indexOf(name);
  for (const need of ["index", "name", "memory.total"]) if (col(need) < 0) throw new Error(`nvidia-smi output has no ${need} column: ${lines[0]}`);
  const mib = (v: string | undefined, line: string): number | undefined => {
    if (v === undefined || /^\[?N\/A\]?$|^\[Not Supported\]$/i.test(v)) return undefined;
    const m = /^(\d+(?:\.\d+)?)\s*(MiB|GiB)?$/.exec(v);
    if (!m) throw new Error(`nvidia-smi output: not a memory size: ${JSON.stringify(v)} in ${JSON.stringify(line)}`);
    return Math.round(Number(m[1]) * (m[2] === "GiB" ? 1024 : 1));
  };
  return lines.slice(hasHeader ? 1 : 0).map((line) => {
    const cells = line.split(",").map((c) => c.trim());
    const index = Number(cells[col("index")]);
    if (!Number.isInteger(index)) throw new Error(`nvidia-smi output: not a GPU index in ${JSON.stringify(line)}`);
    const total = mib(cells[col("memory.total")], line);
    if (total === undefined) throw new Error(`nvidia-smi output: no memory.total in ${JSON.stringify(line)}`);
    return {
      index,
      name: cells[col("name")],
      memoryTotalMiB: total,
      memoryUsedMiB: col("memory.used") >= 0 ? mib(cells[col("memory.used")], line) : undefined,
      driverVersion: col("driver_version") >= 0 ? cells[col("driver_version")] : undefined,
    };
  });
}

/** Reads `docker info --format '{{json .}}'` for what matters to GPUs. */
export function engineGpuSupport(infoJson: string): EngineGpuSupport {
  const info = JSON.parse(infoJson) as { Name?: string; ServerVersion?: string; Runtimes?: Record<string, unknown>; DiscoveredDevices?: { Source?: string; ID?: string }[] | null };
  return {
    engine: `${info.Name ?? "?"} (Docker ${info.ServerVersion ?? "?"})`,
    nvidiaRuntime: Object.keys(info.Runtimes ?? {}).includes("nvidia"),
    cdiDevices: (info.DiscoveredDevices ?? []).filter((d) => d.Source === "cdi" && d.ID).map((d) => d.ID!),
  };
}

/** The GPU services of a fleet and their VRAM budgets from the profile (`vramMiB`). */
export function gpuDemands(fleet: ResolvedFleet, profile: Profile): { demands: GpuDemand[]; problems: string[] } {
  const demands: GpuDemand[] = [];
  const problems: string[] = [];
  for (const s of fleet.services) {
    if (!s.gpuRequest) continue;
    const budget = profile.vramMiB?.[s.name];
    if (budget === undefined) {
      problems.push(`${fleet.profile.file}: vramMiB.${s.name}: is required for a service that gets a GPU (its VRAM budget in MiB, checked against the card's memory)`);
      continue;
    }
    demands.push({ service: s.name, card: Number(s.gpuRequest.deviceIds[0]), vramMiB: budget });
  }
  return { demands, problems };
}

/** Whether the fleet gives any container a GPU: only then does the preflight look at the engine. */
export const needsGpu = (fleet: ResolvedFleet) => fleet.services.some((s) => s.gpuRequest !== undefined);

/**
 * Every reason the engine cannot run the fleet's GPU services, given what it reported: no way to
 * hand out GPUs, a GPU index the profile names that the host does not have, or budgets on one card
 * that exceed its memory. `gpus` is undefined when nvidia-smi could not be run (then only the
 * runtime is judged). Pure.
 */
export function gpuProblems(fleet: ResolvedFleet, profile: Profile, support: EngineGpuSupport, gpus: readonly SmiGpu[] | undefined, smiError?: string): string[] {
  const where = `fleet:dockerHost ${fleet.dockerHost}`;
  const { demands, problems } = gpuDemands(fleet, profile);
  const gpuServices = fleet.services.filter((s) => s.gpuRequest).map((s) => s.name);
  if (!support.nvidiaRuntime && support.cdiDevices.length === 0) {
    problems.push(
      `${where}: engine ${support.engine} has no NVIDIA runtime registered and no CDI GPU devices, so ${gpuServices.join(", ")} cannot get a GPU; install the NVIDIA Container Toolkit there (nvidia-ctk runtime configure --runtime=docker), or set fleet:cpuOnly: true`,
    );
    return problems;
  }
  if (!gpus) {
    problems.push(`${where}: nvidia-smi could not be run in a GPU container on engine ${support.engine}: ${smiError ?? "no output"}`);
    return problems;
  }
  const byIndex = new Map(gpus.map((g) => [g.index, g]));
  const listed = gpus.map((g) => `${g.index} (${g.name}, ${g.memoryTotalMiB} MiB)`).join(", ") || "none";
  const wanted = new Set(fleet.services.flatMap((s) => s.gpuRequest?.deviceIds.map(Number) ?? []));
  // The GPUs come from fleet:env when the stack sets them, else from the profile.
  const fromStack = fleet.hardwareEnv.GPU_VISIBLE_DEVICES !== String(profile.env.GPU_VISIBLE_DEVICES);
  const gpusSetIn = fromStack ? `${fleet.stackFile}: fleet:env.GPU_VISIBLE_DEVICES` : `${fleet.profile.file}: env.GPU_VISIBLE_DEVICES`;
  for (const i of [...wanted].sort()) {
    if (!byIndex.has(i)) problems.push(`${gpusSetIn}: names GPU ${i}, which the host of ${where} does not have; it has ${listed}`);
  }
  for (const [card, gpu] of byIndex) {
    const on = demands.filter((d) => d.card === card);
    const sum = on.reduce((n, d) => n + d.vramMiB, 0);
    if (on.length && sum > gpu.memoryTotalMiB) {
      problems.push(
        `${fleet.profile.file}: vramMiB: the GPU services on GPU ${card} (${gpu.name}, ${gpu.memoryTotalMiB} MiB) need ${sum} MiB together, more than it has: ${on.map((d) => `${d.service} ${d.vramMiB}`).join(", ")}`,
      );
    }
  }
  return problems;
}

/** Runs a command and returns its stdout; throws with its stderr's last line. */
export type Runner = (cmd: string, args: readonly string[], env: NodeJS.ProcessEnv) => string;

const execRunner: Runner = (cmd, args, env) => {
  const r = runCommand(cmd, args, { env, timeoutSeconds: 120 });
  if (r.status !== 0) throw Object.assign(new Error(failure(cmd, args, r)), { stderr: r.stderr });
  return r.stdout;
};

/** The docker client: FLEET_DOCKER, else the one `npm run infra` links, else `docker` on PATH. */
export function dockerClient(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLEET_DOCKER) return env.FLEET_DOCKER;
  const cached = path.join(fleetCache(env), "bin", "docker");
  return fs.existsSync(cached) ? cached : "docker";
}

/**
 * The GPU preflight against the stack's engine. Does nothing for a fleet without GPU containers;
 * otherwise asks the engine (`docker info`), runs nvidia-smi in a throw-away GPU container of the
 * stack's base image, and throws a PreflightError listing every problem, checked against the
 * profile the fleet was resolved with (`fleet.profile.parsed`). Changes nothing.
 */
export function gpuPreflight(fleet: ResolvedFleet, run: Runner = execRunner): void {
  if (!needsGpu(fleet)) return;
  const env = { ...process.env, DOCKER_HOST: fleet.dockerHost };
  const docker = dockerClient();
  let infoJson: string;
  try {
    infoJson = run(docker, ["info", "--format", "{{json .}}"], env);
  } catch (e) {
    throw new PreflightError(fleet.stack, [`fleet:dockerHost ${fleet.dockerHost}: no Docker engine answers there: ${lastLine(e)}`]);
  }
  const support = engineGpuSupport(infoJson);
  let gpus: SmiGpu[] | undefined;
  let smiError: string | undefined;
  if (support.nvidiaRuntime || support.cdiDevices.length) {
    try {
      // The NVIDIA runtime mounts nvidia-smi into any container that asks for the utility capability.
      const out = run(docker, ["run", "--rm", "--gpus", "all", "--network", "none", "-e", "NVIDIA_DRIVER_CAPABILITIES=utility", "--entrypoint", "nvidia-smi", fleet.baseImage, ...NVIDIA_SMI_QUERY], env);
      gpus = parseNvidiaSmiCsv(out);
    } catch (e) {
      smiError = lastLine(e);
    }
  }
  const problems = gpuProblems(fleet, fleet.profile.parsed, support, gpus, smiError);
  if (problems.length) throw new PreflightError(fleet.stack, problems);
}

function lastLine(e: unknown): string {
  const err = e as { stderr?: string | Buffer; message?: string };
  const text = String(err.stderr ?? "").trim() || String(err.message ?? e);
  return text.split("\n").filter(Boolean).pop() ?? text;
}
