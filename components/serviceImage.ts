import * as pulumi from "@pulumi/pulumi";
import { BUILD_ARGS, TYPES } from "../contract";
import { BuildPlan, ResolvedService } from "../stack";
import { buildImage, ImageBuildArgs } from "./images";

/** Arguments of a ServiceImage. */
export interface ServiceImageArgs extends ImageBuildArgs {
  /** The service, as the stack resolved it (a pinned one is built from its source all the same). `dockerfile` is
   * dockerfiles/service.Dockerfile (multi-stage, shared by every service) and `context` a staged copy of the service's source folder. */
  readonly service: ResolvedService;
  /** Its family's image, pinned by digest: a family change rebuilds exactly its descendants. */
  readonly family: pulumi.Input<string>;
}

/** What a service's source builds: its own plan, or the one a pin keeps (see ImagePlan). */
export function servicePlan(service: ResolvedService): BuildPlan {
  const plan = service.image.kind === "build" ? service.image : service.image.kind === "pinned" ? service.image.build : undefined;
  if (!plan) throw new Error(`${service.name}: this stack builds no image for it (fleet:imagesFrom)`);
  return plan;
}

/** The build args of a service image: its family (`repo@sha256:`), name, ports and its inputs digest baked in. */
export function serviceBuildArgs<T>(
  service: ResolvedService,
  family: T,
): { [BUILD_ARGS.family]: T; [BUILD_ARGS.serviceName]: string; [BUILD_ARGS.servicePort]: string; [BUILD_ARGS.healthPort]: string; [BUILD_ARGS.inputs]: string } {
  return {
    [BUILD_ARGS.family]: family,
    [BUILD_ARGS.serviceName]: service.name,
    [BUILD_ARGS.servicePort]: String(service.ports.service),
    [BUILD_ARGS.healthPort]: String(service.ports.health),
    [BUILD_ARGS.inputs]: servicePlan(service).provenance.inputs,
  };
}

/** A service image: the shared multi-stage Dockerfile over the service's source, FROM its family. */
export class ServiceImage extends pulumi.ComponentResource {
  /** `repo@sha256:` of the pushed image: what the container runs. */
  public readonly ref: pulumi.Output<string>;

  constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPES.serviceImage, name, {}, opts);
    const { service } = args;
    const { ref } = buildImage(
      `${name}-image`,
      {
        ...args,
        // A pinned service is built from its source all the same: its image stays in the graph as it is.
        plan: servicePlan(service),
        buildArgs: serviceBuildArgs(service, args.family),
      },
      { parent: this },
    );
    this.ref = ref;
    this.registerOutputs({ ref: this.ref });
  }
}
