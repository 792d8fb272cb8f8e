import { CliError } from "./args";
import { UpdateRow } from "./stackHistory";

/** One service's move in a rollback or release. */
export interface PinChange {
  readonly service: string;
  /** The digest it runs now, or null when it does not run. */
  readonly from: string | null;
  /** The digest it will run: update N's for a rollback; null for a release (whatever its source builds). */
  readonly to: string | null;
  /** The `repo@sha256:` a rollback pins, or null for a release. */
  readonly image: string | null;
}

/** What a rollback will do. */
export interface RollbackPlan {
  /** The update rolled back to. */
  readonly target: UpdateRow;
  /** Every service pinned, whether or not its digest changes, sorted by name. */
  readonly changes: readonly PinChange[];
  /** `fleet:images` after the rollback: the stack's other pins, plus these. */
  readonly images: Readonly<Record<string, string>>;
}

/**
 * Plans `rollback --to N [--service NAME ...]` over a stack's history (oldest first) and its current
 * `fleet:images`: every service update N ran (or only the named ones) is pinned to the image it ran
 * then. Pure; bad input is a CliError of one line naming what was wrong and what is allowed.
 */
export function planRollback(stack: string, rows: readonly UpdateRow[], to: string, named: readonly string[], currentImages: Readonly<Record<string, string>>): RollbackPlan {
  if (!rows.length) throw new CliError(`rollback: stack ${stack} has no updates yet; there is nothing to roll back to`);
  const usable = rows.filter(usableUpdate).map((r) => r.update);
  const allowed = `pick a succeeded update from \`fleet history --stack ${stack}\`: ${usable.join(", ") || "none"}`;
  if (!/^\d+$/.test(to) || Number(to) < 1 || Number(to) > rows.length) {
    throw new CliError(`rollback: --to must be an update number of stack ${stack}, from 1 to ${rows.length}; got ${JSON.stringify(to)}`);
  }
  const target = rows[Number(to) - 1];
  if (target.kind === "destroy") throw new CliError(`rollback: update ${to} of stack ${stack} was a destroy and ran no services; ${allowed}`);
  if (target.result !== "succeeded") throw new CliError(`rollback: update ${to} of stack ${stack} ${target.result === "failed" ? "failed" : `did not succeed (${target.result})`}; ${allowed}`);
  const ran = Object.keys(target.services).sort();
  if (!ran.length) throw new CliError(`rollback: update ${to} of stack ${stack} ran no services; ${allowed}`);
  for (const n of named) {
    if (!target.services[n]) throw new CliError(`rollback: --service ${JSON.stringify(n)}: update ${to} of stack ${stack} ran no such service; it ran: ${ran.join(", ")}`);
  }
  const now = rows[rows.length - 1].services;
  const chosen = named.length ? [...new Set(named)].sort() : ran;
  const changes = chosen.map((service) => ({ service, from: now[service]?.digest ?? null, to: target.services[service].digest, image: target.services[service].image }));
  return { target, changes, images: { ...currentImages, ...Object.fromEntries(changes.map((c) => [c.service, c.image])) } };
}

/** What a release will do: the pins removed and `fleet:images` after. */
export interface ReleasePlan {
  readonly changes: readonly PinChange[];
  readonly images: Readonly<Record<string, string>>;
}

/**
 * Plans `release [--service NAME ...]`: removes the named pins (or all) from `fleet:images`, so
 * those services are built from source again. Naming a service that has no pin is an error.
 */
export function planRelease(stack: string, stackFile: string, currentImages: Readonly<Record<string, string>>, named: readonly string[]): ReleasePlan {
  const pinned = Object.keys(currentImages).sort();
  for (const n of named) {
    if (!currentImages[n]) throw new CliError(`release: --service ${JSON.stringify(n)}: ${stackFile} fleet:images pins no such service; pinned: ${pinned.join(", ") || "none"}`);
  }
  const chosen = named.length ? [...new Set(named)].sort() : pinned;
  const digestOf = (ref: string) => ref.slice(ref.lastIndexOf("@") + 1);
  const images = Object.fromEntries(Object.entries(currentImages).filter(([n]) => !chosen.includes(n)));
  return { changes: chosen.map((service) => ({ service, from: digestOf(currentImages[service]), to: null, image: null })), images };
}

/** Whether an update can be rolled back to: it succeeded, was not a destroy and ran services. */
export function usableUpdate(row: UpdateRow): boolean {
  return row.result === "succeeded" && row.kind !== "destroy" && Object.keys(row.services).length > 0;
}

/** The change table a rollback or release prints before it applies anything. */
export function formatChanges(changes: readonly PinChange[]): string {
  const width = Math.max(7, ...changes.map((c) => c.service.length));
  const head = `${"service".padEnd(width)}  ${"from".padEnd(71)}  to`;
  const rows = changes.map((c) => `${c.service.padEnd(width)}  ${(c.from ?? "(not running)").padEnd(71)}  ${c.to === null ? "(built from source)" : c.to === c.from ? `${c.to} (unchanged)` : c.to}`);
  return [head, ...rows].join("\n");
}
