import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { Revision } from "../source/git";
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
 * The SOURCE_DATE_EPOCH of an image: the commit time of the last commit that touched its own
 * inputs (not HEAD's), in whole seconds. File times newer than it and the image's creation time
 * become this value, so a commit elsewhere in the repository leaves the image's digest as it was,
 * and two builders of the same commit agree.
 */
export function sourceDateEpoch(revision: Revision): number {
  const seconds = Date.parse(revision.created) / 1000;
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`revision ${revision.sha} has no valid commit time: ${JSON.stringify(revision.created)}`);
  return Math.floor(seconds);
}

/**
 * Whether a registry is reached over plain HTTP without asking: loopback only. A LAN registry
 * over HTTP is trusted by the builder's own configuration instead (scripts/trust-registry.sh).
 */
export function isLoopbackRegistry(repository: string): boolean {
  const host = repository.split("/")[0].replace(/:\d+$/, "");
  return host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "[::1]";
}

/**
 * The one exporter of an image, as BuildKit's own attributes: push `name` to its registry with
 * file times rewritten to SOURCE_DATE_EPOCH (`rewrite-timestamp`, BuildKit 0.13 and later) and OCI
 * media types. `type=image,push=true` is what buildx's `type=registry` expands to, and buildctl
 * accepts it as is, so the reproducibility test builds with the very same text. It replaces
 * docker-build's `push: true`, which would add a second, timestamp-keeping exporter and make the
 * digest output ambiguous.
 */
export function registryExport(name: string): string {
  const attrs = [`type=image`, `name=${name}`, `push=true`, `rewrite-timestamp=true`, `oci-mediatypes=true`];
  if (isLoopbackRegistry(name)) attrs.push("registry.insecure=true");
  return attrs.join(",");
}

/** The build args every image gets besides its own: SOURCE_DATE_EPOCH from its revision. */
export function reproducibleBuildArgs(plan: ImagePlan & { kind: "build" }): Record<string, string> {
  return { SOURCE_DATE_EPOCH: String(sourceDateEpoch(plan.revision)) };
}

/**
 * A pushed docker-build Image with registry build cache, and the `repo@sha256:` reference that
 * pulls exactly what was pushed (docker-build's `digest` alone cannot be pulled). The digest is
 * the pushed manifest's: the single exporter's `containerimage.digest`.
 */
export function buildImage(name: string, spec: BuildSpec, opts: pulumi.CustomResourceOptions): { image: dockerbuild.Image; ref: pulumi.Output<string> } {
  const { plan } = spec;
  const cache = `${plan.repository}:buildcache`;
  const tag = `${plan.repository}:${plan.tag}`;
  const image = new dockerbuild.Image(
    name,
    {
      builder: { name: spec.builder },
      context: { location: spec.context },
      dockerfile: { inline: spec.dockerfile },
      buildArgs: { ...spec.buildArgs, ...reproducibleBuildArgs(plan) },
      labels: { ...plan.labels },
      tags: [tag],
      platforms: ["linux/amd64"],
      push: false,
      exports: [{ raw: registryExport(tag) }],
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
