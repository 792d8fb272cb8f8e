import * as pulumi from "@pulumi/pulumi";
import { ResolvedService } from "../stack";
import { buildImage, ImageBuildArgs } from "./images";

/** Arguments of a ServiceImage. */
export interface ServiceImageArgs extends ImageBuildArgs {
  /** The service, as the stack resolved it (a pinned one is built from its source all the same). `dockerfile` is the
   * text of dockerfiles/service.Dockerfile (multi-stage, shared by every service) and `context`
   * a staged copy of the service's source folder. */
  readonly service: ResolvedService;
  /** Its family's image, pinned by digest: a family change rebuilds exactly its descendants. */
  readonly family: pulumi.Input<string>;
}

/** A service image: the shared multi-stage Dockerfile over the service's source, FROM its family. */
export class ServiceImage extends pulumi.ComponentResource {
  /** `repo@sha256:` of the pushed image: what the container runs. */
  public readonly ref: pulumi.Output<string>;

  constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleet:images:ServiceImage", name, {}, opts);
    const { service } = args;
    // A pinned service is built from its source all the same: its image stays in the graph as it is.
    const plan = service.image.kind === "build" ? service.image : service.image.build;
    const { ref } = buildImage(
      `${name}-image`,
      {
        ...args,
        plan,
        buildArgs: {
          FAMILY: args.family,
          SERVICE_NAME: service.name,
          SERVICE_PORT: String(service.ports.service),
          HEALTH_PORT: String(service.ports.health),
          FLEET_REVISION: plan.revision.sha,
        },
      },
      { parent: this },
    );
    this.ref = ref;
    this.registerOutputs({ ref: this.ref });
  }
}
