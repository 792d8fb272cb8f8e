import * as pulumi from "@pulumi/pulumi";
import { ResolvedService } from "../stack";
import { buildImage, ImageBuildArgs } from "./images";

/** Arguments of a ServiceImage. */
export interface ServiceImageArgs extends ImageBuildArgs {
  /** The service, as the stack resolved it; its image plan must be a build. `dockerfile` is the
   * text of dockerfiles/service.Dockerfile (multi-stage, shared by every service) and `context`
   * a staged copy of the service's source folder. */
  readonly service: ResolvedService;
  /** Its family's image, pinned by digest: a family change rebuilds exactly its descendants. */
  readonly family: pulumi.Input<string>;
}

/** The build args of a service image: its family (`repo@sha256:`), name, ports and the revision baked in. */
export function serviceBuildArgs<T>(service: ResolvedService, family: T): { FAMILY: T; SERVICE_NAME: string; SERVICE_PORT: string; HEALTH_PORT: string; FLEET_REVISION: string } {
  if (service.image.kind !== "build") throw new Error(`${service.name} runs an image it does not build`);
  return {
    FAMILY: family,
    SERVICE_NAME: service.name,
    SERVICE_PORT: String(service.ports.service),
    HEALTH_PORT: String(service.ports.health),
    FLEET_REVISION: service.image.revision.sha,
  };
}

/** A service image: the shared multi-stage Dockerfile over the service's source, FROM its family. */
export class ServiceImage extends pulumi.ComponentResource {
  /** `repo@sha256:` of the pushed image: what the container runs. */
  public readonly ref: pulumi.Output<string>;

  constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleet:images:ServiceImage", name, {}, opts);
    const { service } = args;
    if (service.image.kind !== "build") throw new pulumi.ResourceError(`${service.name} runs a pinned image; it has nothing to build`, this);
    const { ref } = buildImage(
      `${name}-image`,
      {
        ...args,
        plan: service.image,
        buildArgs: serviceBuildArgs(service, args.family),
      },
      { parent: this },
    );
    this.ref = ref;
    this.registerOutputs({ ref: this.ref });
  }
}
