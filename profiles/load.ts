import * as fs from "fs";
import * as path from "path";
import { FleetInputError, parseWith, problem } from "../errors";
import { SERVICES } from "../catalog";
import { allocConfProblems } from "./allocConf";
import { HARDWARE_ENV_KEYS, HardwareEnv, Profile, profileSchema } from "./schema";

/**
 * Checks what the schema cannot: the profile fits its own machine. Returns one problem line per
 * violation, so a profile with three mistakes reports three.
 */
export function profileProblems(profile: Profile, file: string): string[] {
  const out: string[] = [];
  const { machine, env, limits } = profile;
  const indexes = machine.gpus.map((g) => g.index);
  out.push(...hardwareEnvProblems(env, machine, file, "env."));
  if (new Set(indexes).size !== indexes.length) out.push(problem(file, "machine.gpus", "lists a GPU index twice", indexes));
  const memory: [string, number | undefined][] = [["cpu", limits.cpu.memoryMiB], ["gpu", limits.gpu.memoryMiB], ...Object.entries(limits.services).map(([n, l]): [string, number | undefined] => [`services.${n}`, l.memoryMiB])];
  for (const [key, memoryMiB] of memory) {
    if (memoryMiB !== undefined && memoryMiB > machine.memoryMiB) {
      out.push(problem(file, `limits.${key}.memoryMiB`, `must be at most machine.memoryMiB (${machine.memoryMiB})`, memoryMiB));
    }
  }
  const known = SERVICES.map((s) => s.name);
  for (const name of Object.keys(limits.services).filter((n) => !known.includes(n))) {
    out.push(problem(file, `limits.services.${name}`, `is not a service; known: ${known.join(", ")}`));
  }
  const largest = Math.max(0, ...machine.gpus.map((g) => g.memoryMiB));
  for (const [service, mib] of Object.entries(profile.vramMiB ?? {})) {
    if (!known.includes(service)) out.push(problem(file, `vramMiB.${service}`, `is not a service; known: ${known.join(", ")}`));
    else if (mib > largest) out.push(problem(file, `vramMiB.${service}`, machine.gpus.length ? `must fit one GPU of machine.gpus (the largest has ${largest} MiB)` : "needs a GPU, but machine.gpus lists none", mib));
  }
  return out;
}

/**
 * Checks what the hardware env schema cannot: the env fits the machine (GPU indexes it has, no more
 * OpenMP threads than hardware threads) and torch accepts the allocator setting. Used for a
 * profile's `env` (keyPrefix `env.`) and for a stack's fleet:env over it (`fleet:env.`); `only`
 * limits the checks to the keys that file set.
 */
export function hardwareEnvProblems(env: HardwareEnv, machine: Profile["machine"], file: string, keyPrefix: string, only: readonly string[] = HARDWARE_ENV_KEYS): string[] {
  const out: string[] = [];
  const indexes = machine.gpus.map((g) => g.index);
  const wanted = env.GPU_VISIBLE_DEVICES === "" ? [] : env.GPU_VISIBLE_DEVICES.split(",").map(Number);
  if (only.includes("GPU_VISIBLE_DEVICES")) {
    for (const i of wanted) {
      if (!indexes.includes(i)) {
        out.push(problem(file, `${keyPrefix}GPU_VISIBLE_DEVICES`, `names GPU ${i}, which machine.gpus does not list (${indexes.length ? `it lists ${indexes.join(", ")}` : "it lists none: use \"\""})`, env.GPU_VISIBLE_DEVICES));
      }
    }
  }
  if (only.includes("OMP_NUM_THREADS") && env.OMP_NUM_THREADS > machine.cpuThreads) {
    out.push(problem(file, `${keyPrefix}OMP_NUM_THREADS`, `must be at most machine.cpuThreads (${machine.cpuThreads})`, env.OMP_NUM_THREADS));
  }
  if (only.includes("TORCH_CUDA_ALLOC_CONF")) {
    for (const message of allocConfProblems(env.TORCH_CUDA_ALLOC_CONF)) {
      out.push(problem(file, `${keyPrefix}TORCH_CUDA_ALLOC_CONF`, message, env.TORCH_CUDA_ALLOC_CONF));
    }
  }
  return out;
}

/** Parses and checks a profile given as text; `file` names it in errors. */
export function parseProfile(text: string, file: string): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FleetInputError([problem(file, "", `is not valid JSON (${(e as Error).message})`)]);
  }
  const profile = parseWith(profileSchema, raw, file);
  const problems = profileProblems(profile, file);
  if (problems.length) throw new FleetInputError(problems);
  return profile;
}

/** Reads `profiles/<name>.json` under `projectDir`. */
export function loadProfile(projectDir: string, name: string, referencedFrom: string): Profile {
  const file = path.join("profiles", `${name}.json`);
  const full = path.join(projectDir, file);
  if (!fs.existsSync(full)) {
    const known = fs.readdirSync(path.join(projectDir, "profiles")).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
    throw new FleetInputError([problem(referencedFrom, "fleet:profile", `names no profile: ${file} does not exist; known profiles: ${known.join(", ")}`, name)]);
  }
  return parseProfile(fs.readFileSync(full, "utf8"), file);
}
