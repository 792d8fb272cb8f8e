/**
 * One supply-chain step (supply/steps.ts) from the command line, the request as JSON on stdin:
 *   ts-node supply/run.ts sbom|scan|report < request.json > result.json
 * A step that fails prints its reason on stderr, one finding or problem a line, and exits 1.
 */
import { report, sbom, scan, StepError } from "./steps";

const STEPS: Record<string, (req: never) => Promise<unknown>> = { sbom, scan, report };

async function main() {
  const step = STEPS[process.argv[2]];
  if (!step) throw new StepError(`usage: supply/run.ts ${Object.keys(STEPS).join("|")} < request.json`);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const result = await step(JSON.parse(Buffer.concat(chunks).toString("utf8")) as never);
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof StepError ? e.message : e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
