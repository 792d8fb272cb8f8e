import { Step } from "../test/support/engine";

/**
 * What each tool did in one run, counted from what the tool itself reports: images built and
 * containers (re)created. Pure functions of the tools' output, so the bench and the tests share
 * them.
 */

const CONTAINER = "docker:index/container:Container";

/** Containers a `pulumi up` created or replaced, from its changed steps. */
export function fleetContainersReplaced(steps: readonly Step[]): number {
  return new Set(steps.filter((s) => s.type === CONTAINER && ["create", "replace", "create-replacement"].includes(s.op)).map((s) => s.urn)).size;
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
