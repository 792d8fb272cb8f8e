import * as path from "path";
import { stackOption } from "./args";
import { defineCommand } from "./command";
import { readUpdates } from "./historySource";
import { parseHistory, toJson, UpdateRow } from "./stackHistory";

/** The project directory the command line works on. */
export const PROJECT_DIR = path.resolve(__dirname, "..");

/** A stack's updates, oldest first, numbered from 1; the same numbers `fleet rollback --to` takes. */
export function stackHistory(stack: string, projectDir: string = PROJECT_DIR, env: NodeJS.ProcessEnv = process.env): UpdateRow[] {
  return parseHistory(readUpdates(projectDir, stack, env));
}

/** `history --stack S [--json]`. */
export const command = defineCommand({
  name: "history",
  summary: "the stack's updates and the image digest each service ran after each",
  details: "Reads the stack's history from the backend the Pulumi CLI uses (PULUMI_BACKEND_URL, else `pulumi login`'s, else fleet's own file backend): a file:// folder or Pulumi Cloud.",
  options: {
    stack: stackOption("the Pulumi stack, like local"),
    json: { description: "print [{ update, kind, result, time, revision, message, services }]" },
  },
  async run(opts) {
    const rows = stackHistory(opts.stack);
    console.log(opts.json ? JSON.stringify(rows.map(toJson), null, 2) : formatHistory(rows));
    return 0;
  },
});

/** The table `fleet history` prints: a line per update, then each service's digest, `*` where it changed. */
export function formatHistory(rows: readonly UpdateRow[]): string {
  if (!rows.length) return "no updates yet";
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(`${String(r.update).padStart(3)}  ${r.time.replace(/\.\d+Z$/, "Z")}  ${r.kind.padEnd(7)}  ${r.result.padEnd(9)}  ${(r.commit ?? "-").slice(0, 12).padEnd(12)}  ${r.message.split("\n")[0]}`);
    const names = Object.keys(r.services).sort();
    const width = Math.max(0, ...names.map((n) => n.length));
    for (const n of names) lines.push(`     ${r.changed.includes(n) ? "*" : " "} ${n.padEnd(width)}  ${r.services[n].digest}`);
    for (const n of r.changed.filter((n) => !r.services[n])) lines.push(`     * ${n.padEnd(width)}  (gone)`);
  }
  lines.push("(* = digest changed by that update)");
  return lines.join("\n");
}
