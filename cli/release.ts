import { stackOption, servicesOption } from "./args";
import { defineCommand } from "./command";
import { PROJECT_DIR } from "./history";
import { formatChanges, planRelease } from "./pins";
import { pulumiUp } from "./pulumiUp";
import { StackFile } from "./stackFile";

/**
 * `release --stack S [--service NAME ...] [--yes] [-- PULUMI_UP_ARGS...]`: removes the pins of
 * `fleet:images` (all, or the named services'), so those services run what their source builds
 * again; with --yes, applies it with `pulumi up`.
 */
export const command = defineCommand({
  name: "release",
  summary: "remove rollback pins, back to building from source",
  passThrough: "passed on to pulumi up",
  options: {
    stack: stackOption("the Pulumi stack, like local"),
    service: servicesOption("only this service's pin; default every pin"),
    yes: { description: "remove and apply with pulumi up; without it only the change is shown" },
  },
  async run(opts, passed) {
    const stack = opts.stack;
    const file = new StackFile(PROJECT_DIR, stack);
    const plan = planRelease(stack, file.name, file.images(), opts.service);
    if (!plan.changes.length) {
      console.log(`${file.name}: fleet:images pins nothing; every service is built from source already.`);
      return 0;
    }
    console.log(`Releasing pins of stack ${stack}:`);
    console.log(formatChanges(plan.changes));
    file.setImages(plan.images);
    if (!opts.yes) {
      console.log(`Dry run: ${file.name} was not changed. Run again with --yes to remove these pins and apply with pulumi up.`);
      return 0;
    }
    file.save();
    console.log(`${file.name}: removed ${plan.changes.length} pin(s). Running pulumi up...`);
    return pulumiUp(PROJECT_DIR, stack, `release ${plan.changes.map((c) => c.service).join(", ")}`, passed);
  },
});
