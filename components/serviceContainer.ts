import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { CANARY_ROLE, LABELS, TYPES } from "../contract";
import { ResolvedService } from "../stack";
import { HealthCanary } from "./healthCanary";
import { ContainerStarted } from "./containerStarted";
import { containerBasics, dockerRunFlags, RunSpec, runSpec, secretEnvEntries } from "./runSpec";

/** Arguments of a ServiceContainer. */
export interface ServiceContainerArgs {
  /** The service, as the stack resolved it. */
  readonly service: ResolvedService;
  /** The image to run, `repo@sha256:...`. */
  readonly image: pulumi.Input<string>;
  /** Prefix of the stack's Docker object names (`fleet-<stack>`). */
  readonly prefix: string;
  /** The stack's user-defined network (CIS 5.30). */
  readonly network: pulumi.Input<string>;
  /** Host interface the stack's ports are bound to (components/stackPorts.ts), which the health URL names. */
  readonly bindAddress: string;
  /** Docker host of the provider, which the canary and the container's start use too. */
  readonly dockerHost: string;
  /** Seconds the container may take to report healthy. */
  readonly healthTimeoutSeconds: number;
  /** Keep the data volume when the stack is destroyed. Defaults to true. */
  readonly retainVolume?: boolean;
  /** Labels that name the stack and machine, put on the container, its volume and its canaries. */
  readonly labels: Readonly<Record<string, string>>;
  /** Resources that must succeed for this digest before the container is created or replaced
   * (the vulnerability gate). Defaults to none. */
  readonly gates?: readonly pulumi.Resource[];
}

/**
 * One service's container: the image pulled by digest, a named data volume that a replacement
 * never deletes, a canary that proves a new image healthy with the container's own settings before
 * the running container is replaced, the container itself with the CIS 5.x settings (created next
 * to the one it replaces, under a name of its own, on the stack network under the service's alias,
 * where the stack's ports reach it), and its start (its PIDs limit, its first healthy answer, the
 * handover from the container it replaces).
 */
export class ServiceContainer extends pulumi.ComponentResource {
  /** The container's name. */
  public readonly containerName: pulumi.Output<string>;
  /** The `repo@sha256:` reference the container runs. */
  public readonly image: pulumi.Output<string>;
  /** URL of the /health endpoint on the host, through the stack's ports. */
  public readonly healthUrl: pulumi.Output<string>;
  /** The options every child starts from. */
  private readonly child: pulumi.CustomResourceOptions = { parent: this };

  constructor(name: string, args: ServiceContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPES.serviceContainer, name, {}, opts);
    const { service: s } = args;
    const spec = runSpec(s);
    const run: ServiceRun = { args, spec, labels: { ...args.labels, [LABELS.service]: s.name }, secrets: secretEnvEntries(spec) };

    const pulled = this.pull(name, args);
    const volume = this.dataVolume(name, run);
    const canary = this.canary(name, run, pulled);
    const container = this.container(name, run, pulled, volume, canary);
    this.started(name, run, container);

    this.containerName = container.name;
    this.image = pulumi.output(args.image);
    this.healthUrl = pulumi.output(`http://${args.bindAddress === "0.0.0.0" ? "127.0.0.1" : args.bindAddress}:${s.ports.health}/health`);
    this.registerOutputs({ containerName: this.containerName, image: this.image, healthUrl: this.healthUrl });
  }

  /** The image, pulled by digest onto the stack's engine. */
  private pull(name: string, args: ServiceContainerArgs): docker.RemoteImage {
    // Destroy removes the pulled image (no tag left behind). Forced, because an update that failed
    // its canary leaves the old pull to be deleted next time while the running container still
    // uses that image: the reference is untagged and the container keeps running.
    return new docker.RemoteImage(`${name}-pull`, { name: args.image, keepLocally: false, forceRemove: true }, this.child);
  }

  /** The service's named data volume, kept when the stack is destroyed unless retainVolume says otherwise. */
  private dataVolume(name: string, run: ServiceRun): docker.Volume {
    const { args } = run;
    return new docker.Volume(
      `${name}-data`,
      { name: `${args.prefix}-${args.service.slug}-data`, labels: Object.entries(run.labels).map(([label, value]) => ({ label, value })) },
      { ...this.child, retainOnDelete: args.retainVolume ?? true },
    );
  }

  /** The canary: the new image run with the container's own settings until it answers healthy. */
  private canary(name: string, run: ServiceRun, pulled: docker.RemoteImage): HealthCanary {
    const { args, spec } = run;
    return new HealthCanary(
      `${name}-canary`,
      {
        image: args.image,
        service: args.service.name,
        dockerHost: args.dockerHost,
        namePrefix: `${args.prefix}-canary-${args.service.slug}`,
        network: args.network,
        labels: { ...run.labels, [LABELS.role]: CANARY_ROLE },
        // Docker probes it every second (the schedule is not a setting an image can fail on); the
        // canary itself waits for the probe's first healthy answer (readiness.ts).
        runFlags: [...dockerRunFlags({ ...spec, health: { ...spec.health, intervalSeconds: 1 } }), ...run.secrets.flatMap((entry) => ["--env", entry])],
        probe: spec.health.test.slice(1),
        timeoutSeconds: args.healthTimeoutSeconds,
      },
      { ...this.child, dependsOn: [pulled] },
    );
  }

  /**
   * The container, created or replaced only after its canary and gates passed. A replacement is
   * created next to the running container and not started: its start (ContainerStarted) starts it
   * and stops the old one once it answers, and the old one is removed once the update has replaced it.
   */
  private container(name: string, run: ServiceRun, pulled: docker.RemoteImage, volume: docker.Volume, canary: HealthCanary): docker.Container {
    const settings = containerArgs(run, pulled, volume);
    // The Docker provider asks for delete-before-replace (a fixed name cannot be held twice); this
    // name is not fixed, and false says so to the engine, which then creates first.
    return new docker.Container(
      `${name}-container`,
      { ...settings, name: containerName(run, settings) },
      { ...this.child, deleteBeforeReplace: false, dependsOn: [canary, ...(run.args.gates ?? [])] },
    );
  }

  /** The container's start: its PIDs limit (CIS 5.29), the handover from the container it replaces, its first healthy answer. */
  private started(name: string, run: ServiceRun, container: docker.Container): ContainerStarted {
    const { args, spec } = run;
    return new ContainerStarted(
      `${name}-started`,
      { containerId: container.id, service: args.service.name, limit: spec.pidsLimit, dockerHost: args.dockerHost, probe: spec.health.test.slice(1), timeoutSeconds: args.healthTimeoutSeconds, stopGraceSeconds: STOP_GRACE_SECONDS },
      this.child,
    );
  }
}

/** What the steps of a ServiceContainer share: its arguments, and how the service runs. */
interface ServiceRun {
  readonly args: ServiceContainerArgs;
  /** How the service runs, in the container and its canary alike. */
  readonly spec: RunSpec;
  /** The stack's labels and the service's, on the volume, the canary and the container. */
  readonly labels: Readonly<Record<string, string>>;
  /** This service's fleet:secrets only, as Pulumi secrets, in the container and its canary alike. */
  readonly secrets: readonly pulumi.Output<string>[];
}

/** Seconds a container has to stop after SIGTERM, when it is replaced or destroyed. */
const STOP_GRACE_SECONDS = 10;

/**
 * The container's name: the stack's prefix, the service and a hash of every setting. A replacement
 * runs for a moment next to the container it replaces, so it needs a name of its own; two
 * containers of one service with the same settings never exist at once. Secret settings go into
 * the hash, which says nothing of them, so the name itself is not secret.
 */
function containerName(run: ServiceRun, settings: Omit<docker.ContainerArgs, "name">): pulumi.Output<string> {
  const { prefix, service } = run.args;
  return pulumi.unsecret(pulumi.output(settings).apply((resolved) => `${prefix}-${service.slug}-${settingsHash(resolved)}`));
}

/** 8 hex digits of the SHA-256 of `value` as JSON with its keys sorted: the same settings give the same hash. */
function settingsHash(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v;
  return createHash("sha256").update(JSON.stringify(sorted(value))).digest("hex").slice(0, 8);
}

/** The container's settings: the RunSpec as the docker provider takes it, on the basics every fleet container has. */
function containerArgs(run: ServiceRun, pulled: docker.RemoteImage, volume: docker.Volume): Omit<docker.ContainerArgs, "name"> {
  const { args, spec } = run;
  const s = args.service;
  return {
    ...containerBasics(spec),
    image: pulled.imageId,
    envs: [...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`), ...run.secrets],
    // No host ports: the stack's ports (components/stackPorts.ts) reach the service by its alias,
    // so a replacement can run next to the container it replaces.
    networksAdvanced: [{ name: args.network, aliases: [s.slug] }],
    healthcheck: {
      tests: [...spec.health.test],
      interval: `${spec.health.intervalSeconds}s`,
      timeout: `${spec.health.timeoutSeconds}s`,
      retries: spec.health.retries,
      startPeriod: `${spec.health.startPeriodSeconds}s`,
    },
    tmpfs: { ...spec.tmpfs },
    volumes: [{ volumeName: volume.name, containerPath: spec.dataPath }],
    removeVolumes: false,
    deviceRequests: spec.gpu ? [{ driver: spec.gpu.driver, deviceIds: [...spec.gpu.deviceIds], capabilities: [...spec.gpu.capabilities] }] : undefined,
    labels: Object.entries<pulumi.Input<string>>({ ...run.labels, [LABELS.image]: args.image }).map(([label, value]) => ({ label, value })),
    destroyGraceSeconds: STOP_GRACE_SECONDS,
  };
}
