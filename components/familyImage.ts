import * as pulumi from "@pulumi/pulumi";
import { BUILD_ARGS, TYPES } from "../contract";
import { ResolvedFamily } from "../stack";
import { buildImage, ImageBuildArgs } from "./images";

/** Arguments of a FamilyImage. */
export interface FamilyImageArgs extends ImageBuildArgs {
  /** The family, as the stack resolved it; `dockerfile` is its Dockerfile (see familyDockerfile), staged. */
  readonly family: ResolvedFamily;
  /** The image it is built FROM, pinned by digest: the parent family's ref, or the base image. */
  readonly from: pulumi.Input<string>;
}

/** The build args of a family: its parent (`repo@sha256:`) and its lock. */
export function familyBuildArgs<T>(family: ResolvedFamily, from: T): { [BUILD_ARGS.base]: T; [BUILD_ARGS.lock]: string } {
  return { [BUILD_ARGS.base]: from, [BUILD_ARGS.lock]: family.lock };
}

/** A family base image, built FROM its parent by digest and pushed to the stack's registry. */
export class FamilyImage extends pulumi.ComponentResource {
  /** `repo@sha256:` of the pushed image: what children build FROM. */
  public readonly ref: pulumi.Output<string>;

  constructor(name: string, args: FamilyImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPES.familyImage, name, {}, opts);
    const { ref } = buildImage(
      `${name}-image`,
      { ...args, plan: args.family.image, buildArgs: familyBuildArgs(args.family, args.from) },
      { parent: this },
    );
    this.ref = ref;
    this.registerOutputs({ ref: this.ref });
  }
}
