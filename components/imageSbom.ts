import * as pulumi from "@pulumi/pulumi";
import { DYNAMIC } from "../contract";
import { ProjectResource } from "./dynamic";
import { steps } from "./steps";

/** Inputs of an ImageSbom. */
export interface ImageSbomArgs {
  /** The image, `repo@sha256:...`; a new digest gets a new SBOM. */
  readonly image: pulumi.Input<string>;
  /** The stack's Docker engine (fleet:dockerHost), whose trust decides plain HTTP to the registry (registry/trust.ts; not part of the diff). */
  readonly dockerHost: string;
}

interface SbomState {
  readonly image: string;
  readonly dockerHost: string;
}

/**
 * Makes sure the image has a CycloneDX SBOM kept beside it in the registry (an OCI artifact whose
 * subject is the image, tagged `sha256-<hex>.sbom`): reuses the one there, else runs syft on the
 * pushed image and stores its output. Keyed by the digest only: an unchanged digest is never
 * scanned again, and a checkout elsewhere does not count as a change. A dynamic provider, run
 * from the project's code (components/dynamic.ts) in the provider process all dynamic resources share.
 */
export const sbomProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: SbomState, news: SbomState) {
    const changed = olds.image !== news.image;
    return { changes: changed, replaces: changed ? ["image"] : [], deleteBeforeReplace: false };
  },
  async create(inputs: SbomState) {
    const out = await steps().sbom({ image: inputs.image, dockerHost: inputs.dockerHost }).catch((e: Error) => {
      throw new Error(`SBOM of ${inputs.image}: ${e.message}`);
    });
    return { id: `sbom-${inputs.image.slice(inputs.image.lastIndexOf("@") + 8, inputs.image.lastIndexOf("@") + 20)}`, outs: { ...inputs, ...out } };
  },
  async delete() {
    // The SBOM stays in the registry beside its image, which is kept too (a rollback may need both).
  },
};

/** The CycloneDX SBOM of one pushed image, kept in the registry beside it. */
export class ImageSbom extends ProjectResource {
  /** The image the SBOM describes. */
  declare public readonly image: pulumi.Output<string>;
  /** The SBOM artifact in the registry, `repo@sha256:...`. */
  declare public readonly artifact: pulumi.Output<string>;
  /** How many components it lists. */
  declare public readonly components: pulumi.Output<number>;
  /** Components per package type (deb, pypi...). */
  declare public readonly byType: pulumi.Output<Record<string, number>>;

  constructor(name: string, args: ImageSbomArgs, opts?: pulumi.CustomResourceOptions) {
    super(DYNAMIC.imageSbom, { file: "components/imageSbom", exportName: "sbomProvider" }, name, { ...args, artifact: undefined, components: undefined, byType: undefined }, opts);
  }
}
