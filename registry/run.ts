/**
 * The registry steps the dynamic providers run (they run in a provider process of their own, so
 * they hand the work to this project code, as supply/run.ts does):
 *   ts-node registry/run.ts tag < {"image": "host/repo@sha256:...", "tag": "prev", "dockerHost": "unix://..."}
 * prints `{}` on success; a step that fails prints its reason on stderr and exits 1.
 */
import { Registry } from "./client";

/** Points `tag` at `image` in its registry, spoken to as the engine at `dockerHost` trusts it. */
async function tag(req: { image: string; tag: string; dockerHost: string }) {
  await (await Registry.forImage(req.image, req.dockerHost)).tag(req.image, req.tag);
  return {};
}

const STEPS: Record<string, (req: never) => Promise<unknown>> = { tag };

async function main() {
  const step = STEPS[process.argv[2]];
  if (!step) throw new Error(`usage: registry/run.ts ${Object.keys(STEPS).join("|")} < request.json`);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  process.stdout.write(JSON.stringify(await step(JSON.parse(Buffer.concat(chunks).toString("utf8")) as never)) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
