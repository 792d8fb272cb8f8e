import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { FleetInputError } from "../errors";
import { isPinnedRef } from "../registry";
import { readStackConfig } from "../stack";
import { CliError, stackOption } from "./args";
import { defineCommand } from "./command";
import { fleetEnv } from "./pulumi";

const ROOT = path.resolve(__dirname, "..");
/** The base's repository under a stack's registry path, and its tag. */
export const BASE_REPOSITORY = "debian-bookworm";
export const BASE_TAG = "base";

/**
 * `npm run fleet -- base --stack S [--from REF] [--rebuild]`: puts the Debian base image in stack
 * S's registry and pins it in S's config. If the registry already has it (another machine made
 * it), its digest is taken; otherwise it is copied from `--from` (digest preserved) or made with
 * debootstrap here (scripts/base-image.sh, the same script `npm run infra` uses). The pinned
 * reference goes to the file fleet:baseImageFile names, or into the stack file's fleet:baseImage.
 */
export const command = defineCommand({
  name: "base",
  summary: "make (debootstrap) or import the Debian base for a stack, push it to the stack's registry and pin its digest in the stack's config",
  details: "The pinned reference goes to the file fleet:baseImageFile names, or into the stack file's fleet:baseImage.",
  options: {
    stack: stackOption("the stack whose base image to make, like mainpc"),
    from: { value: "REF", description: "copy this image (host/repo@sha256:..., digest preserved) instead of making it with debootstrap" },
    rebuild: { description: "make (or copy) it even when the stack's registry has it already" },
    project: { value: "DIR", description: "the Pulumi project whose stack file to pin it in; defaults to this checkout" },
  },
  async run(opts) {
    const { stack, from } = opts;
    const projectDir = path.resolve(opts.project ?? ROOT);
    if (from !== undefined && !isPinnedRef(from)) throw new CliError(`base: --from must be an image pinned by digest (host[:port]/repo@sha256:<64 hex>); got ${JSON.stringify(from)}`);
    let file: string, raw: Record<string, string>;
    try {
      ({ file, raw } = readStackConfig(projectDir, stack));
    } catch (e) {
      if (e instanceof FleetInputError) throw new CliError(`base: ${e.problems.join("; ")}`);
      throw e;
    }
    if (!raw.registry) throw new CliError(`base: ${file}: fleet:registry is not set; the base goes to that registry`);

    const repo = `${raw.registry}/${BASE_REPOSITORY}`;
    const made = spawnSync("bash", [path.join(ROOT, "scripts", "base-image.sh"), repo, BASE_TAG, ...(from ? [from] : [])], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...fleetEnv(), ...(opts.rebuild ? { FLEET_BASE_REBUILD: "1" } : {}) },
    });
    const ref = (made.stdout ?? "").trim().split("\n").pop() ?? "";
    if (made.status !== 0 || !isPinnedRef(ref)) throw new CliError(`base: no base image for stack ${stack} in ${repo} (scripts/base-image.sh exited ${made.status}; its messages are above)`);

    if (raw.baseImageFile) {
      const target = path.resolve(projectDir, raw.baseImageFile);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, `${ref}\n`);
      console.log(`stack ${stack}: ${ref} written to ${raw.baseImageFile} (fleet:baseImageFile)`);
    } else {
      // Edited as a document, so the stack file keeps its comments and order.
      const full = path.join(projectDir, file);
      const doc = YAML.parseDocument(fs.readFileSync(full, "utf8"));
      doc.setIn(["config", "fleet:baseImage"], ref);
      fs.writeFileSync(full, doc.toString());
      console.log(`stack ${stack}: fleet:baseImage set to ${ref} in ${file}`);
    }
    return 0;
  },
});
