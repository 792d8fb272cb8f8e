/**
 * A stack's updates as fleet sees them, parsed from Pulumi's own records: per update the history
 * entry (kind, result, time, message, environment, config) and the state it left behind (the
 * checkpoint). Pure: text in, rows out; where the text comes from is historySource.ts's business.
 */
import { FLEET_NAME, LABELS, TYPES } from "../contract";
import { PartialUpdate } from "../partial";
import { isPinnedRef, parsePinnedRef } from "../registry";
import { slugOf } from "../stack";

/** One update as read from its two records (two files of a file backend, two commands on Pulumi Cloud). */
export interface UpdateRecord {
  /** Where the history entry came from, named in errors. */
  readonly source: string;
  /** The history entry's JSON text (Pulumi's UpdateInfo). */
  readonly history: string;
  /** The checkpoint's JSON text (the state after the update), or null when it is missing. */
  readonly checkpoint: string | null;
  /** Where the checkpoint came from, named in errors. Defaults to `source` with `.history.` as `.checkpoint.`. */
  readonly checkpointSource?: string;
}

/** What a service ran after an update. */
export interface ServiceImage {
  /** `repo@sha256:...`: what a pin puts back. */
  readonly image: string;
  /** `sha256:...` */
  readonly digest: string;
}

/** One row of `fleet history`. */
export interface UpdateRow {
  /** 1 for the oldest update. */
  readonly update: number;
  /** update, refresh, destroy, import... */
  readonly kind: string;
  /** succeeded, failed, in-progress... */
  readonly result: string;
  /** Start time, ISO 8601. */
  readonly time: string;
  /** The git commit of the checkout the update ran from (Pulumi's `git.head`), or null outside git. Images are named by their inputs' content, not by it. */
  readonly commit: string | null;
  readonly message: string;
  /** Service name -> the image it ran after this update. */
  readonly services: Readonly<Record<string, ServiceImage>>;
  /** Services whose digest differs from the update before (new, changed or gone). */
  readonly changed: readonly string[];
  /** The stack config the update ran with, keys with their namespace (`fleet:images`). */
  readonly config: Readonly<Record<string, unknown>>;
}

/** The JSON shape `fleet history --json` prints per update: the row's fields, each service's digest alone. */
export type UpdateJson = Pick<UpdateRow, "update" | "kind" | "result" | "time" | "commit" | "message"> & { readonly services: Record<string, string> };

/** Rows for a stack's updates. `records` must be oldest first (history files sort by name so). */
export function parseHistory(records: readonly UpdateRecord[]): UpdateRow[] {
  const rows: UpdateRow[] = [];
  let before: Readonly<Record<string, ServiceImage>> = {};
  records.forEach((rec, i) => {
    const info = parseJson(rec.history, rec.source) as Record<string, unknown>;
    const services = rec.checkpoint === null ? before : servicesOf(parseJson(rec.checkpoint, rec.checkpointSource ?? rec.source.replace(/\.history\./, ".checkpoint.")));
    const names = [...new Set([...Object.keys(before), ...Object.keys(services)])].sort();
    rows.push({
      update: i + 1,
      kind: String(info.kind ?? "unknown"),
      result: String(info.result ?? "unknown"),
      time: typeof info.startTime === "number" ? new Date(info.startTime * 1000).toISOString() : "",
      commit: (info.environment as Record<string, string> | undefined)?.["git.head"] ?? null,
      message: String(info.message ?? ""),
      services,
      changed: names.filter((n) => before[n]?.digest !== services[n]?.digest),
      config: (info.config ?? {}) as Record<string, unknown>,
    });
    before = services;
  });
  return rows;
}

/** A row in the shape `--json` prints. */
export function toJson(row: UpdateRow): UpdateJson {
  const { update, kind, result, time, commit, message } = row;
  return { update, kind, result, time, commit, message, services: Object.fromEntries(Object.entries(row.services).map(([n, s]) => [n, s.digest])) };
}

/**
 * The image each service ran in a checkpoint: the stack's `services` output, which the program
 * exports per service (`{ image, digest }`); else, for a state written by an older program, the
 * labels on each container (`dev.fleet.service`, `dev.fleet.image`).
 */
export function servicesOf(checkpoint: unknown): Record<string, ServiceImage> {
  const resources = resourcesOf(checkpoint);
  const out: Record<string, ServiceImage> = {};
  const stack = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const exported = (stack?.outputs as { services?: unknown } | undefined)?.services;
  if (exported && typeof exported === "object") {
    for (const [name, s] of Object.entries(exported as Record<string, { image?: unknown }>)) {
      const image = imageOf(s?.image);
      if (image) out[name] = image;
    }
    return out;
  }
  for (const r of resources.filter((r) => r.type === TYPES.container)) {
    const labels = ((r.outputs as { labels?: Array<{ label: string; value: string }> })?.labels ?? []);
    const name = labels.find((l) => l.label === LABELS.service)?.value;
    const image = imageOf(labels.find((l) => l.label === LABELS.image)?.value);
    if (name && image) out[name] = image;
  }
  return out;
}

/**
 * The URNs of the resources in a checkpoint whose inputs name one of `images` (`repo@sha256:...`):
 * what runs those images (pull, canary, gates, container, :prev tag, report), not what builds
 * them, since an image's own inputs never name its digest.
 */
export function resourcesUsing(checkpoint: unknown, images: readonly string[]): string[] {
  const resources = resourcesOf(checkpoint);
  const quoted = images.map((i) => JSON.stringify(i));
  return resources.filter((r) => r.urn && r.inputs && quoted.some((q) => JSON.stringify(r.inputs).includes(q))).map((r) => r.urn!);
}

/** The resources of a checkpoint (`{ checkpoint: { latest: { resources } } }`), none when it has none. */
function resourcesOf(checkpoint: unknown): StateResource[] {
  return ((checkpoint as { checkpoint?: { latest?: { resources?: unknown[] } } })?.checkpoint?.latest?.resources ?? []) as StateResource[];
}

/** A resource as a checkpoint holds it, as far as fleet reads it. */
interface StateResource {
  readonly urn?: string;
  readonly type?: string;
  readonly inputs?: unknown;
  readonly outputs?: Record<string, unknown>;
  readonly parent?: string;
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
  readonly deletedWith?: string;
}

/** What the CLI runs a partial update with: the update, and the URNs `pulumi up` must target (each with --target). */
export interface PartialPlan {
  readonly update: PartialUpdate;
  readonly targets: readonly string[];
}

/**
 * The partial update (partial.ts) that moves `services` onto their pins, from the state the last
 * update left (its checkpoint): it targets what runs their images now (resourcesUsing) and every
 * resource that depends on one of those, as the state records dependencies.
 *
 * Undefined when only the whole program can do it: a service runs nothing yet; the state has no
 * outputs to carry over, or they hold a secret (carried over, it would be written in clear); or a
 * target belongs to another service or builds an image, which the partial program does not declare,
 * and a targeted resource a program does not declare is deleted. Every service's report depends on
 * the ObservabilityCenter's container, so moving the center takes the whole program.
 */
export function partialUpdateOf(checkpoint: unknown, services: readonly string[]): PartialPlan | undefined {
  const resources = resourcesOf(checkpoint);
  const outputs = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.outputs as { families?: unknown; services?: Record<string, { image?: unknown }>; images?: unknown } | undefined;
  if (!outputs?.services || !outputs.families || !outputs.images || JSON.stringify(outputs).includes(SECRET_SIGNATURE)) return undefined;
  const running = services.map((n) => outputs.services![n]?.image);
  if (running.some((i) => !isPinnedRef(i))) return undefined;

  const targets = new Set(resourcesUsing(checkpoint, running as string[]));
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of resources) {
      if (!r.urn || targets.has(r.urn)) continue;
      const on = [...(r.dependencies ?? []), ...Object.values(r.propertyDependencies ?? {}).flat(), r.parent, r.deletedWith];
      if (on.some((u) => u !== undefined && targets.has(u))) {
        targets.add(r.urn);
        grew = true;
      }
    }
  }
  const slugs = Object.keys(outputs.services).map(slugOf);
  const ours = new Set(services.map(slugOf));
  const declared = (urn: string) => {
    const name = urn.slice(urn.lastIndexOf("::") + 2);
    const type = urn.split("::")[2]?.split("$").pop();
    const owner = slugs.filter((s) => name === `${FLEET_NAME}-${s}` || name.startsWith(`${FLEET_NAME}-${s}-`)).sort((a, b) => b.length - a.length)[0];
    return owner !== undefined && ours.has(owner) && type !== TYPES.builtImage && type !== TYPES.serviceImage;
  };
  if (!targets.size || ![...targets].every(declared)) return undefined;

  const built: Record<string, string> = {};
  for (const n of services) {
    const image = resources.find((r) => r.type === TYPES.serviceImage && r.urn?.endsWith(`::${FLEET_NAME}-${slugOf(n)}`));
    if (isPinnedRef(image?.outputs?.ref)) built[n] = image!.outputs!.ref as string;
  }
  return {
    update: { services: [...services], outputs: { families: outputs.families as Record<string, string>, services: outputs.services, images: outputs.images as Record<string, string> }, built },
    targets: [...targets],
  };
}

/** What marks a secret value in Pulumi's state (its "sig" key). */
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";

function imageOf(ref: unknown): ServiceImage | undefined {
  return isPinnedRef(ref) ? { image: ref, digest: parsePinnedRef(ref).digest } : undefined;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HistoryFileError(`${source}: is not valid JSON (${(e as Error).message})`);
  }
}

/** A history or checkpoint file that cannot be read. */
export class HistoryFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HistoryFileError";
  }
}
