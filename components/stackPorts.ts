import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { LABELS, PORTS_ROLE, TYPES } from "../contract";
import { ResolvedService } from "../stack";
import { ContainerStarted } from "./containerStarted";
import { containerBasics, HARDENING } from "./runSpec";

/** Arguments of a StackPorts. */
export interface StackPortsArgs {
  /** The services whose ports it publishes: each port goes to the containers of the service's alias (its slug). */
  readonly services: readonly ResolvedService[];
  /** The image it runs, `repo@sha256:...`: the root family's (Python and tini, the non-root user). */
  readonly image: pulumi.Input<string>;
  /** Prefix of the stack's Docker object names (`fleet-<stack>`). */
  readonly prefix: string;
  /** The stack's user-defined network, where the services have their aliases. */
  readonly network: pulumi.Input<string>;
  /** Host interface the ports are bound to (CIS 5.14). */
  readonly bindAddress: string;
  /** Docker host of the provider. */
  readonly dockerHost: string;
  /** Labels that name the stack and machine. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The stack's host ports: one small container (`<prefix>-ports`) publishes every service's
 * service and health port on the bind address and passes each connection to the service's
 * containers on the stack network (components/stackPorts.py, Python's asyncio in the root family
 * image).
 *
 * Why not publish the ports on the service containers: two containers cannot hold one host port,
 * so a replacement could start only once the container it replaces had stopped, and the service
 * was unreachable from that stop to the new container's first answer (1.3 s, as much as a plain
 * `docker restart`). Here the service's address is its alias, which Docker's DNS gives every
 * running container that has it: the new container starts next to the old one, and the old one is
 * stopped only once the new one answers (ContainerStarted), while this container passes each
 * connection to whichever of them accepts.
 *
 * It has the services' hardening (non-root, read-only root, no capabilities, no new privileges,
 * limits, a health check, a PIDs limit set when it starts). It changes only when the ports, the
 * root family or the script do; then it is replaced as a whole, the ports held by one container
 * at a time, and every service is unreachable for its restart.
 */
export class StackPorts extends pulumi.ComponentResource {
  /** The container's name. */
  public readonly containerName: pulumi.Output<string>;

  constructor(name: string, args: StackPortsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPES.stackPorts, name, {}, opts);
    const child = { parent: this };
    // Every service's two ports, each published as itself and passed to the service's alias.
    const published = args.services.flatMap((s) => [s.ports.service, s.ports.health].map((port) => ({ port, alias: s.slug })));
    const probe = ["python", "-c", `import socket; socket.create_connection(("127.0.0.1", ${args.services[0].ports.health}), 2).close()`];
    const labels = { ...args.labels, [LABELS.role]: PORTS_ROLE };
    const pulled = new docker.RemoteImage(`${name}-pull`, { name: args.image, keepLocally: false, forceRemove: true }, child);
    const container = new docker.Container(
      `${name}-container`,
      {
        ...containerBasics({ ...HARDENING, memoryMiB: MEMORY_MIB, cpuShares: CPU_SHARES }),
        name: `${args.prefix}-ports`,
        image: pulled.imageId,
        command: ["python", "-c", fs.readFileSync(path.join(__dirname, "stackPorts.py"), "utf8"), ...published.map(({ port, alias }) => `${port}=${alias}:${port}`)],
        ports: published.map(({ port }) => ({ internal: port, external: port, ip: args.bindAddress, protocol: "tcp" })),
        networksAdvanced: [{ name: args.network }],
        healthcheck: { tests: ["CMD", ...probe], interval: "5s", timeout: "5s", retries: 3, startPeriod: "2s" },
        labels: Object.entries(labels).map(([label, value]) => ({ label, value })),
        destroyGraceSeconds: 2,
      },
      child,
    );
    new ContainerStarted(
      `${name}-started`,
      // The first up of a stack whose service containers published the ports themselves (an
      // earlier version of fleet): those let go of them as their handovers stop them, which the
      // start waits for (ContainerStarted tries a start refused for an allocated port again).
      { containerId: container.id, service: "the stack's ports", limit: PIDS_LIMIT, dockerHost: args.dockerHost, probe, timeoutSeconds: PORTS_WAIT_SECONDS, stopGraceSeconds: 2 },
      child,
    );
    this.containerName = container.name;
    this.registerOutputs({ containerName: this.containerName });
  }
}

/** Its limits: one Python process, a thread pool for DNS, a buffer per connection. */
const MEMORY_MIB = 64;
const CPU_SHARES = 512;
const PIDS_LIMIT = 64;
/** How long its start may wait for a port still held, and for its first answer. */
const PORTS_WAIT_SECONDS = 120;
