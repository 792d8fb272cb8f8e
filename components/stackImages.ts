import * as pulumi from "@pulumi/pulumi";
import { isPinnedRef } from "../registry";

/**
 * The images another stack built, read through a StackReference to its `images` output (service
 * name -> `repo@sha256:`) and `families` output (family -> `repo@sha256:`): how pc2 runs what
 * mainpc built for the same commit and builds nothing.
 * One reference per stack; a service the other stack has no image for fails the update with a
 * message naming both stacks and what to run.
 */
export class StackImages {
  private reference?: pulumi.StackReference;

  constructor(
    private readonly name: string,
    /** The stack that builds (fleet:imagesFrom), like `organization/fleet/mainpc`. */
    public readonly stack: string,
    private readonly opts: pulumi.CustomResourceOptions,
  ) {}

  /** The `repo@sha256:` that `stack` exports for `service`. */
  ref(service: string): pulumi.Output<string> {
    return this.pinned("images", service, "run `pulumi up` on STACK first, with fleet:buildCatalog: true so that it builds every service of the catalog");
  }

  /** The `repo@sha256:` of the family image `family` that `stack` exports (its `families` output). */
  family(family: string): pulumi.Output<string> {
    return this.pinned("families", family, "run `pulumi up` on STACK first");
  }

  /** The pinned reference `stack` exports for `key` in its output `output`, or an error that ends with `todo`. */
  private pinned(output: "images" | "families", key: string, todo: string): pulumi.Output<string> {
    this.reference ??= new pulumi.StackReference(this.name, { name: this.stack }, this.opts);
    const stack = this.stack;
    return this.reference.getOutput(output).apply((refs: Record<string, string> | undefined) => {
      const ref = refs?.[key];
      if (typeof ref !== "string" || !isPinnedRef(ref)) {
        throw new Error(
          `fleet:imagesFrom ${stack} exports no image for ${key} (${refs ? `it has ${Object.keys(refs).sort().join(", ") || "none"}` : `it has no ${output} output`}); ` + todo.replace("STACK", stack),
        );
      }
      return ref;
    });
  }
}
