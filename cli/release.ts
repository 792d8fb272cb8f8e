import { parseArgs, required } from "./args";
import { PROJECT_DIR } from "./history";
import type { Command } from "./main";
import { formatChanges, planRelease } from "./pins";
import { pulumiUp, splitPassThrough } from "./pulumiUp";
import { StackFile } from "./stackFile";

/**
 * `release --stack S [--service NAME ...] [--yes] [-- PULUMI_UP_ARGS...]`: removes the pins of
 * `fleet:images` (all, or the named services'), so those services run what their source builds
 * again; with --yes, applies it with `pulumi up`.
 */
export const command: Command = {
  summary: "release --stack S [--service NAME ...] [--yes]: remove rollback pins, back to building from source",
  async run(argv) {
    const { own, passed } = splitPassThrough(argv);
    const args = parseArgs("release", own, { valued: ["stack", "service"], flags: ["yes"] });
    const stack = required("release", args, "stack", "the Pulumi stack, like local");
    const file = new StackFile(PROJECT_DIR, stack);
    const plan = planRelease(stack, file.name, file.images(), args.values.get("service") ?? []);
    if (!plan.changes.length) {
      console.log(`${file.name}: fleet:images pins nothing; every service is built from source already.`);
      return 0;
    }
    console.log(`Releasing pins of stack ${stack}:`);
    console.log(formatChanges(plan.changes));
    file.setImages(plan.images);
    if (!args.flags.has("yes")) {
      console.log(`Dry run: ${file.name} was not changed. Run again with --yes to remove these pins and apply with pulumi up.`);
      return 0;
    }
    file.save();
    console.log(`${file.name}: removed ${plan.changes.length} pin(s). Running pulumi up...`);
    return pulumiUp(PROJECT_DIR, stack, `release ${plan.changes.map((c) => c.service).join(", ")}`, passed);
  },
};
