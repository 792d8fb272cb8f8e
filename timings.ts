import * as fs from "fs";

/**
 * Phase marks of one program run, for `npm run bench`: when FLEET_TIMINGS names a file, each mark
 * appends one JSON line `{ phase, at }` to it (`at` in epoch milliseconds), plus `node-start`, when
 * the Node process began. Without FLEET_TIMINGS it does nothing, so a normal run is unchanged.
 */
export function markPhase(phase: string): void {
  const file = process.env.FLEET_TIMINGS;
  if (!file) return;
  const now = Date.now();
  const lines = [{ phase, at: now }];
  if (!started) {
    started = true;
    lines.unshift({ phase: "node-start", at: Math.round(now - process.uptime() * 1000) });
    // The Node process lives until the engine has finished with every resource it registered.
    process.on("exit", () => fs.appendFileSync(file, `${JSON.stringify({ phase: "program-exit", at: Date.now() })}\n`));
  }
  fs.appendFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
}

let started = false;
