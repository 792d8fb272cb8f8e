import { CliError, servicesOption, stackOption } from "./args";
import { defineCommand } from "./command";
import { PROJECT_DIR } from "./history";
import { readUpdates } from "./historySource";
import { formatChanges, planRollback } from "./pins";
import { fleetEnv } from "./pulumi";
import { pulumiUp } from "./pulumiUp";
import { StackFile } from "./stackFile";
import { parseHistory, partialUpdateOf, resourcesUsing, UpdateRecord, UpdateRow } from "./stackHistory";
import { writePartial } from "../partial";
import { parsePinnedRef, Registry } from "../registry";
import { projectDefaults, readStackConfig } from "../stack";
import { markPhase } from "../timings";

/** Stack config keys that decide the env of the containers (hardware env, workers, per-service env and secrets). */
const HARDWARE_KEYS = ["fleet:machine", "fleet:profile", "fleet:cpuOnly", "fleet:locks", "fleet:env", "fleet:workers", "fleet:serviceEnv", "fleet:secrets"];

/**
 * `rollback --stack S --to N [--service NAME ...] [--config] [--yes] [-- PULUMI_UP_ARGS...]`: pins
 * every service (or the named ones) in `fleet:images` to the image update N ran, after checking the
 * registry still has each one; with --yes, applies it with `pulumi up --skip-preview` (the change
 * printed first is the preview). Nothing is built: a pinned
 * service runs its pin.
 *
 * The update touches only what runs the moved services' images (`--target` the resources whose
 * inputs name their current images, and what depends on those), so it neither diffs nor builds
 * the rest of the fleet, and a change in the checkout since does not ride along. Where the state
 * shows that those resources are the moved services' own, the program itself declares only them
 * (a partial update, partial.ts), which spares it declaring and the engine registering the rest.
 * With --config every container may change, so the whole program is applied.
 */
export const command = defineCommand({
  name: "rollback",
  summary: "put services back on the images update N ran",
  details: "Reads the stack's history from the backend the Pulumi CLI uses (PULUMI_BACKEND_URL, else `pulumi login`'s, else fleet's own file backend): a file:// folder or Pulumi Cloud.",
  passThrough: "passed on to pulumi up",
  options: {
    stack: stackOption("the Pulumi stack, like local"),
    to: { value: "N", required: true, description: "an update number from `fleet history`" },
    service: servicesOption("only this service; default every service update N ran"),
    config: { description: "also restore update N's fleet: stack config (hardware env)" },
    yes: { description: "pin and apply with pulumi up; without it only the change is shown" },
  },
  async run(opts, passed) {
    const { stack, to } = opts;
    markPhase("cli-loaded", "cli");
    const file = new StackFile(PROJECT_DIR, stack);
    const env = fleetEnv();
    const records = readUpdates(PROJECT_DIR, stack, env);
    const rows = parseHistory(records);
    const plan = planRollback(stack, rows, to, opts.service, file.images());
    markPhase("history-read", "cli");

    console.log(`Rolling stack ${stack} back to update ${to} (${plan.target.time}, commit ${plan.target.commit ?? "unknown"}${plan.target.message ? `, "${plan.target.message.split("\n")[0]}"` : ""}):`);
    console.log(formatChanges(plan.changes));
    const missing = await missingImages(plan.changes.map((c) => ({ service: c.service, image: c.image! })), readStackConfig(PROJECT_DIR, stack).raw.dockerHost);
    if (missing.length) throw new CliError(`rollback: nothing was changed, because ${missing.join("; ")}`);
    markPhase("images-checked", "cli");

    let hardware: string;
    if (opts.config) {
      const changed = file.restoreFleetConfig(plan.target.config, projectDefaults(PROJECT_DIR));
      const hw = changed.filter((k) => HARDWARE_KEYS.includes(k));
      hardware = `Stack config restored to update ${to}'s (${changed.length ? `changed: ${changed.join(", ")}` : "it was the same"}); hardware env rolled back${hw.length ? ` (${hw.join(", ")})` : " (its settings were the same)"}, with profiles/ as the checkout has them.`;
    } else {
      hardware = `Hardware env not rolled back: the stack config stays as it is now (add --config to restore update ${to}'s).`;
    }
    file.setImages(plan.images);
    console.log(hardware);
    if (!opts.yes) {
      console.log(`Dry run: ${file.name} was not changed. Run again with --yes to pin these images and apply them with pulumi up.`);
      return 0;
    }
    file.save();
    const services = plan.changes.map((c) => c.service);
    // A service whose digest stays needs nothing of the update: a partial one leaves it undeclared.
    const moved = plan.changes.filter((c) => c.to !== c.from).map((c) => c.service);
    const checkpoint = parseCheckpoint(records);
    const partial = opts.config || !moved.length ? undefined : partialUpdateOf(checkpoint, moved);
    const targets = partial ? partial.targets.flatMap((u) => ["--target", u]) : opts.config ? [] : targetsOf(checkpoint, rows, services);
    const scope = targets.length ? ` on what runs ${(partial ? moved : services).join(", ")} (${targets.filter((t) => t.startsWith("urn:")).length} resources; nothing else is ${partial ? "declared" : "diffed or built"})` : "";
    markPhase("pins-saved", "cli");
    console.log(`${file.name}: fleet:images pins ${plan.changes.length} service(s). Running pulumi up${scope}...`);
    const written = partial && writePartial(partial.update);
    try {
      // The change was shown above, from the history: `up` applies it without a preview pass of its own.
      return pulumiUp(PROJECT_DIR, stack, `rollback to update ${to}`, ["--skip-preview", ...targets, ...passed], written ? { ...env, ...written.env } : env);
    } finally {
      written?.remove();
    }
  },
});

/**
 * The pins whose digest the registry no longer has (or could not be asked about), each as one line
 * naming the service and the image; empty when every one is there. Each registry is spoken to as
 * the stack's engine (`dockerHost`) trusts it.
 */
async function missingImages(pins: ReadonlyArray<{ service: string; image: string }>, dockerHost: string): Promise<string[]> {
  const answers = await Promise.all(
    pins.map(async (p) => ({ ...p, answer: await (await Registry.of(parsePinnedRef(p.image).host, dockerHost, 10_000)).check(p.image) })),
  );
  return answers
    .filter((a) => !("status" in a.answer) || a.answer.status !== 200)
    .map((a) => `${a.service}: ${a.image} ${"error" in a.answer ? `could not be checked: ${a.answer.error}` : a.answer.status === 404 ? "is no longer in the registry" : `could not be checked: the registry answered ${a.answer.status}`}`);
}

/**
 * `--target` arguments for the resources that run these services' images now (and, through
 * --target-dependents, what depends on them), or none, for the whole program, when one of the
 * services runs nothing yet.
 */
function targetsOf(checkpoint: unknown, rows: readonly UpdateRow[], services: readonly string[]): string[] {
  const now = rows[rows.length - 1].services;
  const running = services.map((n) => now[n]?.image);
  if (!checkpoint || running.some((i) => !i)) return [];
  const urns = resourcesUsing(checkpoint, running as string[]);
  return urns.length ? [...urns.flatMap((u) => ["--target", u]), "--target-dependents"] : [];
}

/** The state the newest update left, or undefined when it has none (parseHistory has read it already). */
function parseCheckpoint(records: readonly UpdateRecord[]): unknown {
  const text = records[records.length - 1]?.checkpoint;
  return text ? JSON.parse(text) : undefined;
}
