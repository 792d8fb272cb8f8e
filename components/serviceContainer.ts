import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ResolvedService } from "../stack";
import { canaryScript, HEALTH_PROBE } from "./health";
import { HealthCanary } from "./healthCanary";

/** Arguments of a ServiceContainer. */
export interface ServiceContainerArgs {
  /** The service, as the stack resolved it. */
  readonly service: ResolvedService;
  /** The image to run, `repo@sha256:...`. */
  readonly image: pulumi.Input<string>;
  /** The user-defined network to join (CIS 5.30). */
  readonly network: pulumi.Input<string>;
  /** Host interface the ports are bound to (CIS 5.14). */
  readonly bindAddress: string;
  /** Docker host the canary talks to; the same engine as the provider's. */
  readonly dockerHost: string;
  /** Seconds the container may take to report healthy. */
  readonly healthTimeoutSeconds: number;
  /** Keep the data volume when the stack is destroyed. Defaults to true. */
  readonly retainVolume?: boolean;
  /** Labels put on the container besides the service's own. */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * One service's container: the image pulled by digest, a named data volume that a replacement
 * never deletes, a canary that proves a new image healthy before the running container is
 * replaced, and the container itself with the CIS 5.x settings.
 */
export class ServiceContainer extends pulumi.ComponentResource {
  /** The container's name. */
  public readonly containerName: pulumi.Output<string>;
  /** The `repo@sha256:` reference the container runs. */
  public readonly image: pulumi.Output<string>;
  /** URL of the /health endpoint on the host. */
  public readonly healthUrl: pulumi.Output<string>;

  constructor(name: string, args: ServiceContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleet:containers:ServiceContainer", name, {}, opts);
    const { service: s } = args;
    const child = { parent: this };

    // Destroy removes the pulled image (no tag left behind). Forced, because an update that failed
    // its canary leaves the old pull to be deleted next time while the running container still
    // uses that image: the reference is untagged and the container keeps running.
    const pulled = new docker.RemoteImage(`${name}-pull`, { name: args.image, keepLocally: false, forceRemove: true }, child);
    const volume = new docker.Volume(
      `${name}-data`,
      { name: `fleet-${s.slug}-data`, labels: [{ label: "dev.fleet.service", value: s.name }] },
      { ...child, retainOnDelete: args.retainVolume ?? true },
    );
    const canary = new HealthCanary(
      `${name}-canary`,
      {
        image: args.image,
        dockerHost: args.dockerHost,
        script: pulumi
          .all([args.image, args.network])
          .apply(([image, network]) =>
            canaryScript({ service: s.name, slug: s.slug, image, network, env: s.env, memoryMiB: s.limits.memoryMiB, timeoutSeconds: args.healthTimeoutSeconds }),
          ),
      },
      { ...child, dependsOn: [pulled] },
    );

    const container = new docker.Container(
      `${name}-container`,
      {
        name: `fleet-${s.slug}`,
        image: pulled.imageId,
        user: "10001:10001",
        envs: Object.entries(s.env).map(([k, v]) => `${k}=${v}`),
        ports: [s.ports.service, s.ports.health].map((port) => ({ internal: port, external: port, ip: args.bindAddress, protocol: "tcp" })),
        networksAdvanced: [{ name: args.network, aliases: [s.slug] }],
        healthcheck: { tests: HEALTH_PROBE, interval: "5s", timeout: "3s", retries: 3, startPeriod: "5s" },
        wait: true,
        waitTimeout: args.healthTimeoutSeconds,
        restart: "on-failure",
        maxRetryCount: 5,
        capabilities: { drops: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        readOnly: true,
        tmpfs: { "/tmp": "rw,noexec,nosuid,size=64m" },
        memory: s.limits.memoryMiB,
        memorySwap: s.limits.memoryMiB,
        cpuShares: s.limits.cpuShares,
        volumes: [{ volumeName: volume.name, containerPath: "/data" }],
        removeVolumes: false,
        deviceRequests: s.gpuRequest
          ? [{ driver: s.gpuRequest.driver, deviceIds: [...s.gpuRequest.deviceIds], capabilities: [...s.gpuRequest.capabilities] }]
          : undefined,
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        labels: Object.entries<pulumi.Input<string>>({
          ...args.labels,
          "dev.fleet.service": s.name,
          "dev.fleet.revision": s.env.FLEET_REVISION,
          "dev.fleet.image": args.image,
        }).map(([label, value]) => ({ label, value })),
        destroyGraceSeconds: 10,
        mustRun: true,
      },
      // A fixed host port cannot be held by two containers, so the old one goes first; the canary
      // has already proved the new image healthy, which keeps that gap to a restart.
      { ...child, deleteBeforeReplace: true, dependsOn: [canary] },
    );

    this.containerName = container.name;
    this.image = pulumi.output(args.image);
    this.healthUrl = pulumi.output(`http://${args.bindAddress === "0.0.0.0" ? "127.0.0.1" : args.bindAddress}:${s.ports.health}/health`);
    this.registerOutputs({ containerName: this.containerName, image: this.image, healthUrl: this.healthUrl });
  }
}
