import * as pulumi from "@pulumi/pulumi";
import { isPinnedRef } from "../registry";

/**
 * The images another stack built, read through a StackReference to its `images` output (service
 * name -> `repo@sha256:`): how pc2 runs what mainpc built for the same commit and builds nothing.
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
    this.reference ??= new pulumi.StackReference(this.name, { name: this.stack }, this.opts);
    const stack = this.stack;
    return this.reference.getOutput("images").apply((images: Record<string, string> | undefined) => {
      const ref = images?.[service];
      if (typeof ref !== "string" || !isPinnedRef(ref)) {
        throw new Error(
          `fleet:imagesFrom ${stack} exports no image for ${service} (${images ? `it has ${Object.keys(images).sort().join(", ") || "none"}` : "it has no images output"}); ` +
            `run \`pulumi up\` on ${stack} first, with fleet:buildCatalog: true so that it builds every service of the catalog`,
        );
      }
      return ref;
    });
  }
}
