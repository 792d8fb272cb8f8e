import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { ImagePlan } from "../stack";

/** Arguments every image component takes besides what it builds. */
export interface ImageBuildArgs {
  /** Staged build context directory (see source/stage.ts). */
  readonly context: string;
  /** Dockerfile text, given inline so no checkout path becomes an input. */
  readonly dockerfile: string;
  /** Name of the buildx builder. */
  readonly builder: string;
  /** Whether `pulumi preview` builds too. Defaults to false. */
  readonly buildOnPreview?: boolean;
  /** Build secrets by id, never stored in the image (the Dockerfiles read an optional `pip-ca`). Defaults to none. */
  readonly secrets?: Readonly<Record<string, pulumi.Input<string>>>;
}

/** One image build: the component's arguments, the plan and the Dockerfile's build args. */
export interface BuildSpec extends ImageBuildArgs {
  /** The build plan: repository, tag and labels. */
  readonly plan: ImagePlan & { kind: "build" };
  /** Build args; parent images arrive here as `repo@sha256:`. */
  readonly buildArgs: Record<string, pulumi.Input<string>>;
}

/**
 * A pushed docker-build Image with registry build cache, and the `repo@sha256:` reference that
 * pulls exactly what was pushed (docker-build's `digest` alone cannot be pulled).
 */
export function buildImage(name: string, spec: BuildSpec, opts: pulumi.CustomResourceOptions): { image: dockerbuild.Image; ref: pulumi.Output<string> } {
  const { plan } = spec;
  const cache = `${plan.repository}:buildcache`;
  const image = new dockerbuild.Image(
    name,
    {
      builder: { name: spec.builder },
      context: { location: spec.context },
      dockerfile: { inline: spec.dockerfile },
      buildArgs: spec.buildArgs,
      labels: { ...plan.labels },
      tags: [`${plan.repository}:${plan.tag}`],
      platforms: ["linux/amd64"],
      push: true,
      buildOnPreview: spec.buildOnPreview ?? false,
      secrets: spec.secrets ? { ...spec.secrets } : undefined,
      cacheFrom: [{ registry: { ref: cache } }],
      cacheTo: [{ registry: { ref: cache, mode: "max", imageManifest: true, ociMediaTypes: true } }],
    },
    // Every digest a stack ever ran stays pullable for rollback: deleting the resource (a pin, a
    // destroy) must not make docker-build delete the pushed tag, and with it the manifest.
    { ...opts, retainOnDelete: true },
  );
  return { image, ref: pulumi.interpolate`${plan.repository}@${image.digest}` };
}
