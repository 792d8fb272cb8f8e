/*
 * The names other code and tools read off what the program creates: labels on Docker objects and
 * images, resource types in state and previews, and the build args the Dockerfiles declare. The
 * components write them; review/, cli/, the policy pack, bench/ and operators' `docker ps --filter`
 * read them. A renamed value here changes state, images and every reader at once, so each is a
 * contract with stacks already deployed: change one only with a migration.
 */

/** Labels the fleet puts on its containers, volumes, network and images. */
export const LABELS = {
  /** The stack that created a container, volume, network or canary. */
  stack: "dev.fleet.stack",
  /** The machine of that stack. */
  machine: "dev.fleet.machine",
  /** The service a container, its volume or its canary belongs to. */
  service: "dev.fleet.service",
  /** What a container that is not a service's own is: a canary of the service (CANARY_ROLE), or the stack's ports (PORTS_ROLE). */
  role: "dev.fleet.role",
  /** The `repo@sha256:` reference a container runs. */
  image: "dev.fleet.image",
  /** The sha256 (hex) of an image's inputs, in the image itself (source/inputs.ts). */
  inputs: "dev.fleet.inputs",
  /** The tool that made an SBOM, as an annotation of the SBOM artifact in the registry. */
  sbomGenerator: "dev.fleet.sbom.generator",
  /** An image's title, the family or service it is: the OCI label, which the review names families by. */
  title: "org.opencontainers.image.title",
} as const;

/** The value of LABELS.role on a canary container. */
export const CANARY_ROLE = "canary";

/** The value of LABELS.role on the container that publishes the stack's host ports (components/stackPorts.ts). */
export const PORTS_ROLE = "ports";

/** The module of the fleet's dynamic resources: their type is `pulumi-nodejs:dynamic/fleet:<name>`. */
export const DYNAMIC_MODULE = "fleet";

/** The names the fleet's dynamic resources register with in DYNAMIC_MODULE. */
export const DYNAMIC = {
  healthCanary: "HealthCanary",
  containerStarted: "ContainerStarted",
  prevTag: "PrevTag",
  imageSbom: "ImageSbom",
  scanGate: "ScanGate",
  inventoryReport: "InventoryReport",
} as const;

/** The full Pulumi type of the fleet's dynamic resource registered as `name` (a value of DYNAMIC). */
export function dynamicType(name: string): string {
  return `pulumi-nodejs:dynamic/${DYNAMIC_MODULE}:${name}`;
}

/** The Fleet component's name (index.ts): every resource below it is named `<FLEET_NAME>-<service slug>[-<part>]`. */
export const FLEET_NAME = "fleet";

/** Pulumi types: the fleet's components (part of every URN below them) and the resources others match. */
export const TYPES = {
  /** The top component (components/fleet.ts). */
  fleet: "fleet:index:Fleet",
  /** A family image (components/familyImage.ts). */
  familyImage: "fleet:images:FamilyImage",
  /** A service image (components/serviceImage.ts). */
  serviceImage: "fleet:images:ServiceImage",
  /** A service's container and what comes with it (components/serviceContainer.ts). */
  serviceContainer: "fleet:containers:ServiceContainer",
  /** The stack's host ports (components/stackPorts.ts). */
  stackPorts: "fleet:containers:StackPorts",
  /** A running container (the docker provider). */
  container: "docker:index/container:Container",
  /** A pulled image (the docker provider). */
  remoteImage: "docker:index/remoteImage:RemoteImage",
  /** A built and pushed image (the docker-build provider). */
  builtImage: "docker-build:index:Image",
  /** A container's PIDs limit and first healthy answer (components/containerStarted.ts). */
  containerStarted: dynamicType(DYNAMIC.containerStarted),
} as const;

/** Whether `type` is one of the fleet's own components (all are in the `fleet` package). */
export function isFleetComponent(type: string): boolean {
  return type.startsWith("fleet:");
}

/** The build args of the fleet's images: the ARGs dockerfiles/ declare, which the review reads the family tree from. */
export const BUILD_ARGS = {
  /** A family's parent image, `repo@sha256:` (the root family's is the stack's base image). */
  base: "BASE",
  /** A family's hash-locked requirements, relative to dockerfiles/. */
  lock: "LOCK",
  /** A service image's family image, `repo@sha256:`. */
  family: "FAMILY",
  /** The service an image is built for. */
  serviceName: "SERVICE_NAME",
  /** The service's port. */
  servicePort: "SERVICE_PORT",
  /** The service's health port. */
  healthPort: "HEALTH_PORT",
  /** The image's inputs digest, baked into a service image. */
  inputs: "FLEET_INPUTS",
  /** The git commit, baked in by images built before they were named by their inputs; read, never written. */
  revision: "FLEET_REVISION",
} as const;
