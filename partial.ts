import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { FleetInputError, parseWith, problem } from "./errors";
import { isPinnedRef } from "./registry";
import type { ResolvedFleet } from "./stack";

/**
 * A partial update: the program declares only what runs some services (their gate, pull, canary,
 * container, start, SBOM, `:prev` tag and report), and `pulumi up` targets those resources. A
 * targeted update keeps what it does not target as it is, so the rest of the fleet costs no
 * registration, no diff and no provider; nothing is built. `fleet rollback --service` runs one
 * when the state shows that everything its targets touch belongs to those services
 * (cli/stackHistory.ts `partialUpdateOf`).
 *
 * Pulumi writes a stack's and a component's outputs whole on every update, targeted or not, so the
 * update carries the outputs it started from: the program exports them with those services'
 * entries replaced, and `fleet history` still sees every service.
 */
export interface PartialUpdate {
  /** The services whose containers the update runs (each pinned in fleet:images). */
  readonly services: readonly string[];
  /** The stack's outputs before the update: the entries of every other service come from here. */
  readonly outputs: PartialOutputs;
  /** Service -> the image the stack last built from its source (`repo@sha256:`), which its report compares the pin with. */
  readonly built: Readonly<Record<string, string>>;
}

/** The Fleet component's outputs, as the stack exports them. */
export interface PartialOutputs {
  readonly families: Readonly<Record<string, string>>;
  readonly services: Readonly<Record<string, unknown>>;
  readonly images: Readonly<Record<string, string>>;
}

/** The environment variable naming the file that holds a PartialUpdate as JSON. */
export const PARTIAL_ENV = "FLEET_PARTIAL";

const pinned = z.string().refine(isPinnedRef, { error: "must be pinned by digest: host[:port]/repo@sha256:<64 hex digits>" });
const schema = z.strictObject({
  services: z.array(z.string().min(1), { error: "must be a list of service names" }).min(1, { error: "must name at least one service" }),
  outputs: z.strictObject({
    families: z.record(z.string(), pinned),
    services: z.record(z.string(), z.unknown()),
    images: z.record(z.string(), pinned),
  }),
  built: z.record(z.string(), pinned),
});

/**
 * The partial update `env` names (FLEET_PARTIAL), checked against the resolved stack: every service
 * it names runs on this stack and is pinned. Undefined when the variable is not set: the whole
 * program. Throws a FleetInputError naming the variable, the file and what is wrong.
 */
export function readPartial(fleet: ResolvedFleet, env: NodeJS.ProcessEnv = process.env): PartialUpdate | undefined {
  const file = env[PARTIAL_ENV];
  if (!file) return undefined;
  const where = `${PARTIAL_ENV}=${file}`;
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new FleetInputError([problem(where, "", `must be a readable JSON file (fleet rollback writes it; unset ${PARTIAL_ENV} to run the whole program): ${(e as Error).message}`)]);
  }
  const update = parseWith(schema, json, where);
  const problems = update.services.flatMap((name, i) => {
    const s = fleet.services.find((x) => x.name === name);
    if (!s) return [problem(where, `services[${i}]`, `must be a service this stack runs (${fleet.services.map((x) => x.name).join(", ")})`, name)];
    if (s.image.kind !== "pinned") return [problem(where, `services[${i}]`, "must be pinned in fleet:images: a partial update builds nothing", name)];
    return [];
  });
  if (problems.length) throw new FleetInputError(problems);
  return update;
}

/**
 * Writes `update` where readPartial finds it: a file of its own (mode 0600) in a new folder under
 * the system's temporary folder. Returns the environment to add and a function that removes it.
 */
export function writePartial(update: PartialUpdate): { env: Record<string, string>; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-partial-"));
  const file = path.join(dir, "update.json");
  fs.writeFileSync(file, JSON.stringify(update), { mode: 0o600 });
  return { env: { [PARTIAL_ENV]: file }, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
