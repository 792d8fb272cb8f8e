import { CliError, parseArgs, required } from "./args";
import { PROJECT_DIR } from "./history";
import { readUpdates } from "./historySource";
import type { Command } from "./main";
import { formatChanges, planRollback } from "./pins";
import { fleetEnv, pulumiUp, splitPassThrough } from "./pulumiUp";
import { missingImages } from "./registryCheck";
import { StackFile } from "./stackFile";
import { parseHistory, resourcesUsing, UpdateRecord, UpdateRow } from "./stackHistory";
import { projectDefaults } from "../stack";

/** Stack config keys that decide the hardware env of the containers. */
const HARDWARE_KEYS = ["fleet:machine", "fleet:profile", "fleet:cpuOnly", "fleet:locks"];

/**
 * `rollback --stack S --to N [--service NAME ...] [--config] [--yes] [-- PULUMI_UP_ARGS...]`: pins
 * every service (or the named ones) in `fleet:images` to the image update N ran, after checking the
 * registry still has each one; with --yes, applies it with `pulumi up`. Nothing is built: a pinned
 * service runs its pin.
 *
 * The update touches only what runs the moved services' images (`--target` the resources whose
 * inputs name their current images, and what depends on those), so it neither diffs nor builds
 * the rest of the fleet, and a change in the checkout since does not ride along. With --config
 * every container may change, so the whole program is applied.
 */
export const command: Command = {
  summary: "rollback --stack S --to N [--service NAME ...] [--config] [--yes]: put services back on the images update N ran",
  async run(argv) {
    const { own, passed } = splitPassThrough(argv);
    const args = parseArgs("rollback", own, { valued: ["stack", "to", "service"], flags: ["config", "yes"] });
    const stack = required("rollback", args, "stack", "the Pulumi stack, like local");
    const to = required("rollback", args, "to", "an update number from `fleet history`");
    const file = new StackFile(PROJECT_DIR, stack);
    const env = fleetEnv();
    const records = readUpdates(PROJECT_DIR, stack, env);
    const rows = parseHistory(records);
    const plan = planRollback(stack, rows, to, args.values.get("service") ?? [], file.images());

    console.log(`Rolling stack ${stack} back to update ${to} (${plan.target.time}, revision ${plan.target.revision ?? "unknown"}${plan.target.message ? `, "${plan.target.message.split("\n")[0]}"` : ""}):`);
    console.log(formatChanges(plan.changes));
    const missing = await missingImages(plan.changes.map((c) => ({ service: c.service, image: c.image! })), env);
    if (missing.length) throw new CliError(`rollback: nothing was changed, because ${missing.join("; ")}`);

    let hardware: string;
    if (args.flags.has("config")) {
      const changed = file.restoreFleetConfig(plan.target.config, projectDefaults(PROJECT_DIR));
      const hw = changed.filter((k) => HARDWARE_KEYS.includes(k));
      hardware = `Stack config restored to update ${to}'s (${changed.length ? `changed: ${changed.join(", ")}` : "it was the same"}); hardware env rolled back${hw.length ? ` (${hw.join(", ")})` : " (its settings were the same)"}, with profiles/ as the checkout has them.`;
    } else {
      hardware = `Hardware env not rolled back: the stack config stays as it is now (add --config to restore update ${to}'s).`;
    }
    file.setImages(plan.images);
    console.log(hardware);
    if (!args.flags.has("yes")) {
      console.log(`Dry run: ${file.name} was not changed. Run again with --yes to pin these images and apply them with pulumi up.`);
      return 0;
    }
    file.save();
    const services = plan.changes.map((c) => c.service);
    const targets = args.flags.has("config") ? [] : targetsOf(records, rows, services);
    const scope = targets.length ? ` on what runs ${services.join(", ")} (${targets.filter((t) => t !== "--target" && t.startsWith("urn:")).length} resources; nothing else is diffed or built)` : "";
    console.log(`${file.name}: fleet:images pins ${plan.changes.length} service(s). Running pulumi up${scope}...`);
    return pulumiUp(PROJECT_DIR, stack, `rollback to update ${to}`, [...targets, ...passed]);
  },
};

/**
 * `--target` arguments for the resources that run these services' images now (and, through
 * --target-dependents, what depends on them), or none, for the whole program, when one of the
 * services runs nothing yet.
 */
function targetsOf(records: readonly UpdateRecord[], rows: readonly UpdateRow[], services: readonly string[]): string[] {
  const now = rows[rows.length - 1].services;
  const checkpoint = records[records.length - 1].checkpoint;
  const running = services.map((n) => now[n]?.image);
  if (!checkpoint || running.some((i) => !i)) return [];
  const urns = resourcesUsing(JSON.parse(checkpoint), running as string[]);
  return urns.length ? [...urns.flatMap((u) => ["--target", u]), "--target-dependents"] : [];
}
