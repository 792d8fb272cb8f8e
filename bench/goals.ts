/**
 * The bench's goals, as pure functions of its rows: the ratios a user compares (the fleet against
 * bake + compose, a rollback against a change, 50 services against 10) and whether each is met.
 * A ratio of two rows measured at different loads says nothing about the tools, so it is marked
 * not comparable instead of met or missed, unless it meets its goal with its first row at the
 * higher load: load only slows a row down, so that verdict holds at equal loads too.
 */

/** One measured run of one tool. */
export interface Row {
  readonly tool: "fleet" | "bake + compose";
  readonly case: string;
  readonly services: number;
  readonly seconds: number;
  readonly imagesBuilt: number;
  readonly containersReplaced: number;
  /** Seconds of each part: fleet phases, or bake and compose. */
  readonly parts: Readonly<Record<string, number>>;
  /** The machine's 1- and 5-minute load averages when the row ended (its own work included). */
  readonly load?: readonly [number, number];
  /** The same when the row started, after the bench waited for the machine to settle: what else ran. */
  readonly loadAtStart?: readonly [number, number];
  /** How the changed service's health port answered during a one-service change. */
  readonly outage?: { readonly polls: number; readonly failed: number; readonly longestSeconds: number };
  /** Seconds per resource type (summed over resources, which overlap), from the engine's events. */
  readonly resources?: Readonly<Record<string, { readonly count: number; readonly seconds: number; readonly longest: number }>>;
}

/** A goal's verdict. `met` is null when its rows are not comparable or were not measured. */
export interface Verdict {
  readonly value: number | null;
  readonly goal: string;
  readonly met: boolean | null;
  /** Why there is no verdict: rows missing, or measured at different loads. */
  readonly note?: string;
}

/**
 * Whether two rows ran at loads that allow comparing their seconds: both on a quiet machine (a
 * 1-minute load up to the number of cores), or loads within a factor of 1.5 of each other. The
 * loads are those at the rows' start where recorded: a row's own work raises the load it ends at.
 */
export function comparableLoads(a: number, b: number, cores: number): boolean {
  if (a <= cores && b <= cores) return true;
  return Math.max(a, b) / Math.max(Math.min(a, b), 0.5) <= 1.5;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Every goal of the bench, from its rows, the state size and the machine's cores. `services` is
 * the catalog's size (the 10-service rows); the scale goals use the largest scale measured.
 */
export function verdicts(rows: readonly Row[], opts: { services: number; cores: number; stateBytesPerService?: number }): Record<string, Verdict> {
  const find = (tool: Row["tool"], c: string, n = opts.services) => rows.find((r) => r.tool === tool && r.case === c && r.services === n);
  const ratio = (a: Row | undefined, b: Row | undefined, goal: string, max: number): Verdict => {
    if (!a || !b) return { value: null, goal, met: null, note: "not measured in this run" };
    const value = r2(a.seconds / b.seconds);
    const [la, lb] = [(a.loadAtStart ?? a.load)?.[0], (b.loadAtStart ?? b.load)?.[0]];
    if (la === undefined || lb === undefined) return { value, goal, met: null, note: "no load recorded for these rows" };
    if (!comparableLoads(la, lb, opts.cores)) {
      // Load only adds seconds: a ratio that meets its goal although its first row ran at the
      // higher load meets it at equal loads too (the 50-service rows start at the load of their
      // own 50 containers' health probes, which no settling takes away).
      if (la > lb && value <= max) return { value, goal, met: true, note: `met although the first row ran at the higher load (${la} against ${lb}): at equal loads the ratio is lower still` };
      return { value, goal, met: null, note: `not comparable: the rows ran at loads ${la} and ${lb}` };
    }
    return { value, goal, met: value <= max };
  };
  const one = find("fleet", "one service changed");
  const rollback = find("fleet", "rollback of one service");
  const largest = Math.max(...rows.map((r) => r.services));
  const rollbackRatio = ratio(rollback, one, "<= 0.35 and under 10 s", 0.35);
  const out: Record<string, Verdict> = {
    "fleet cold / peers' cold": ratio(find("fleet", "cold"), find("bake + compose", "cold"), "<= 1.5", 1.5),
    "fleet no-op / peers' no-op": ratio(find("fleet", "no-op"), find("bake + compose", "no-op"), "<= 2", 2),
    "fleet one-service / peers' one-service": ratio(one, find("bake + compose", "one service changed"), "<= 1.5", 1.5),
    "fleet rollback / fleet one-service": rollbackRatio.met === true && rollback!.seconds >= 10 ? { ...rollbackRatio, met: false, note: `${rollback!.seconds} s is not under 10 s` } : rollbackRatio,
  };
  if (largest > opts.services) {
    out[`fleet no-op, ${largest} / ${opts.services} services`] = ratio(find("fleet", "no-op", largest), find("fleet", "no-op"), "<= 5", 5);
    out[`fleet one-service, ${largest} / ${opts.services} services`] = ratio(find("fleet", "one service changed", largest), one, "<= 5", 5);
  }
  const kb = opts.stateBytesPerService === undefined ? null : r2(opts.stateBytesPerService / 1024);
  out["state KB per service"] = kb === null ? { value: null, goal: "<= 50", met: null, note: "not measured in this run" } : { value: kb, goal: "<= 50", met: kb <= 50 };
  const outage = one?.outage;
  out["seconds the changed service did not answer during its change"] = outage ? { value: outage.longestSeconds, goal: "<= 1", met: outage.longestSeconds <= 1 } : { value: null, goal: "<= 1", met: null, note: "not measured in this run" };
  return out;
}

/**
 * What each case must have done, from the tools' own counts; a row that did otherwise is a failed
 * bench. A cold fleet also creates the stack's ports (components/stackPorts.ts), the container
 * that publishes every service's ports where compose has each service publish its own.
 */
export function countProblems(rows: readonly Row[], services: number): string[] {
  const expected: Record<string, [number | null, number]> = {
    cold: [null, services],
    "no-op": [0, 0],
    "one service changed": [1, 1],
    "rollback of one service": [0, 1],
  };
  const problems: string[] = [];
  for (const r of rows) {
    const e = expected[r.case];
    if (!e || r.services !== services) continue;
    const [images, serviceContainers] = e;
    const containers = r.tool === "fleet" && r.case === "cold" ? serviceContainers + 1 : serviceContainers;
    if ((images !== null && r.imagesBuilt !== images) || r.containersReplaced !== containers) {
      problems.push(`${r.tool}, ${r.case}: built ${r.imagesBuilt} images and replaced ${r.containersReplaced} containers; expected ${images ?? "any"} and ${containers}`);
    }
  }
  return problems;
}
