import { TYPES } from "../contract";
import { Step } from "../test/support/engine";

/**
 * What each tool did in one run, counted from what the tool itself reports: images built and
 * containers (re)created. Pure functions of the tools' output, so the bench and the tests share
 * them.
 */


/** Containers a `pulumi up` created or replaced, from its changed steps. */
export function fleetContainersReplaced(steps: readonly Step[]): number {
  return new Set(steps.filter((s) => s.type === TYPES.container && ["create", "replace", "create-replacement"].includes(s.op)).map((s) => s.urn)).size;
}

/**
 * Bake targets that ran at least one Dockerfile step (RUN, COPY, ADD) instead of taking it from
 * the cache, from `docker buildx bake --progress rawjson` (one status object a line on stderr).
 * Loading contexts, resolving bases and pushing are not building, so they do not count.
 */
export function bakeTargetsBuilt(rawjson: string): string[] {
  const built = new Set<string>();
  for (const line of rawjson.split("\n")) {
    if (!line.startsWith("{")) continue;
    let status: { vertexes?: { name?: string; cached?: boolean; completed?: string }[] };
    try {
      status = JSON.parse(line);
    } catch {
      continue;
    }
    for (const v of status.vertexes ?? []) {
      const m = /^\[([^\s\]]+)[^\]]*\]\s+(RUN|COPY|ADD)\b/.exec(v.name ?? "");
      if (m && v.completed && !v.cached) built.add(m[1]);
    }
  }
  return [...built].sort();
}

/** Containers `docker compose up` created or recreated, from its plain progress output. */
export function composeContainersReplaced(output: string): string[] {
  const names = new Set<string>();
  for (const m of output.matchAll(/Container\s+(\S+)\s+(Created|Recreated)\b/g)) names.add(m[1]);
  return [...names].sort();
}

/**
 * Where an update's time went by resource type: for each type, how many resources the engine
 * worked on, the seconds from each one's start to its outputs (summed: resources overlap, so the
 * sum can exceed the update's time) and the longest. From `pulumi up --json` events, whose times
 * are whole seconds.
 */
export function resourceSeconds(events: readonly EngineEvent[]): Record<string, { count: number; seconds: number; longest: number }> {
  const started = new Map<string, { type: string; at: number }>();
  const out: Record<string, { count: number; seconds: number; longest: number }> = {};
  for (const e of events) {
    const pre = e.resourcePreEvent?.metadata;
    if (pre && !["same", "read", "refresh"].includes(pre.op)) started.set(`${pre.op} ${pre.urn}`, { type: pre.type, at: e.timestamp });
    const done = e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
    const begun = done && started.get(`${done.op} ${done.urn}`);
    if (!done || !begun) continue;
    const seconds = e.timestamp - begun.at;
    const t = (out[begun.type] ??= { count: 0, seconds: 0, longest: 0 });
    t.count++;
    t.seconds += seconds;
    t.longest = Math.max(t.longest, seconds);
  }
  return out;
}

/** The parts of a Pulumi engine event that resourceSeconds reads. */
export interface EngineEvent {
  readonly timestamp: number;
  readonly resourcePreEvent?: { readonly metadata: { readonly op: string; readonly urn: string; readonly type: string } };
  readonly resOutputsEvent?: { readonly metadata: { readonly op: string; readonly urn: string; readonly type: string } };
  readonly resOpFailedEvent?: { readonly metadata: { readonly op: string; readonly urn: string; readonly type: string } };
}
