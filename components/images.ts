import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { STAGED_TIME } from "../source/stage";
import { ImagePlan } from "../stack";

/** Arguments every image component takes besides what it builds. */
export interface ImageBuildArgs {
  /** Staged build context directory (see source/stage.ts). */
  readonly context: string;
  /** The staged Dockerfile (source/stage.ts stageDockerfile): a path named by its content, so no checkout path becomes an input. */
  readonly dockerfile: string;
  /** Name of the buildx builder. */
  readonly builder: string;
  /** Whether `pulumi preview` builds too. Defaults to false. */
  readonly buildOnPreview?: boolean;
  /** The staged `pip-ca` build context the Dockerfiles bind for pip (source/stage.ts pipCaContext). */
  readonly pipCa: string;
  /** Whether the image's registry is spoken to over plain HTTP, as the stack's engine trusts it (registry/trust.ts). */
  readonly registryPlainHttp: pulumi.Input<boolean>;
}

/** One image build: the component's arguments, the plan and the Dockerfile's build args. */
export interface BuildSpec extends ImageBuildArgs {
  /** The build plan: repository, tag and labels. */
  readonly plan: ImagePlan & { kind: "build" };
  /** Build args; parent images arrive here as `repo@sha256:`. */
  readonly buildArgs: Record<string, pulumi.Input<string>>;
}

/**
 * The SOURCE_DATE_EPOCH of every image: 2000-01-01T00:00:00Z, the time every staged file carries
 * (STAGED_TIME). File times newer than it and the image's creation time become this value, so an
 * image's digest is a function of its inputs' content (and its parent's digest) only: neither the
 * commit that last touched them nor the clone's depth changes it, and two builders agree.
 */
export const SOURCE_DATE_EPOCH = Math.floor(STAGED_TIME.getTime() / 1000);

/**
 * The one exporter of an image, as BuildKit's own attributes: push `name` to its registry with
 * file times rewritten to SOURCE_DATE_EPOCH (`rewrite-timestamp`, BuildKit 0.13 and later) and OCI
 * media types. `type=image,push=true` is what buildx's `type=registry` expands to, and buildctl
 * accepts it as is, so the reproducibility test builds with the very same text. It replaces
 * docker-build's `push: true`, which would add a second, timestamp-keeping exporter and make the
 * digest output ambiguous. `registry.insecure` (push over plain HTTP) is set when the fleet's rule
 * says so (registry/trust.ts). The builder's own pulls and cache pushes follow its buildkitd.toml,
 * which scripts/infra.sh writes with the same registries (`http = true`, from scripts/home-setup.sh).
 */
export function registryExport(name: string, plainHttp: boolean): string {
  const attrs = [`type=image`, `name=${name}`, `push=true`, `rewrite-timestamp=true`, `oci-mediatypes=true`];
  if (plainHttp) attrs.push("registry.insecure=true");
  return attrs.join(",");
}

/** The build args every image gets besides its own: the one SOURCE_DATE_EPOCH. */
export function reproducibleBuildArgs(): Record<string, string> {
  return { SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH) };
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
      context: { location: spec.context, named: { "pip-ca": { location: spec.pipCa } } },
      dockerfile: { location: spec.dockerfile },
      buildArgs: { ...spec.buildArgs, ...reproducibleBuildArgs() },
      labels: { ...plan.labels },
      tags: [tag],
      platforms: ["linux/amd64"],
      push: false,
      exports: [{ raw: pulumi.output(spec.registryPlainHttp).apply((plain) => registryExport(tag, plain)) }],
      buildOnPreview: spec.buildOnPreview ?? false,
      cacheFrom: [{ registry: { ref: cache } }],
      cacheTo: [{ registry: { ref: cache, mode: "max", imageManifest: true, ociMediaTypes: true } }],
    },
    // Every digest a stack ever ran stays pullable for rollback: deleting the resource (a pin, a
    // destroy) must not make docker-build delete the pushed tag, and with it the manifest.
    { ...opts, retainOnDelete: true },
  );
  return { image, ref: pulumi.interpolate`${plan.repository}@${image.digest}` };
}
