import * as fs from "fs";

/**
 * Phase marks of one run, for `npm run bench`: when FLEET_TIMINGS names a file, each mark appends
 * one JSON line `{ phase, at }` to it (`at` in epoch milliseconds), plus, at a process's first mark,
 * when that process began: `node-start` for the Pulumi program (which also marks `program-exit`
 * when it ends), `cli-start` for `npm run fleet` (whose command, a rollback, runs the program
 * after it). Without FLEET_TIMINGS it does nothing, so a normal run is unchanged.
 */
export function markPhase(phase: string, by: "program" | "cli" = "program"): void {
  const file = process.env.FLEET_TIMINGS;
  if (!file) return;
  const now = Date.now();
  const lines = [{ phase, at: now }];
  if (!started) {
    started = true;
    lines.unshift({ phase: by === "program" ? "node-start" : "cli-start", at: Math.round(now - process.uptime() * 1000) });
    // The program's Node process lives until the engine has finished with every resource it registered.
    if (by === "program") process.on("exit", () => fs.appendFileSync(file, `${JSON.stringify({ phase: "program-exit", at: Date.now() })}\n`));
  }
  fs.appendFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
}

let started = false;
