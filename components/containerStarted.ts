import * as pulumi from "@pulumi/pulumi";
import { DYNAMIC } from "../contract";
import { ProjectResource } from "./dynamic";
import { Docker, DockerResult, dockerOn, firstHealthy } from "./readiness";

/** Inputs of a ContainerStarted. */
export interface ContainerStartedArgs {
  /** The container's ID: created, not started, by the Docker provider. A new ID hands the service over to it. */
  readonly containerId: pulumi.Input<string>;
  /** The service, for messages. */
  readonly service: string;
  /** Most processes and threads the container may have (CIS 5.29). */
  readonly limit: number;
  /** Docker host of the container. */
  readonly dockerHost: string;
  /** The image's health probe, a command run in the container (not part of the diff). */
  readonly probe: readonly string[];
  /** Seconds the container may take to answer healthy (not part of the diff). */
  readonly timeoutSeconds: number;
  /** Seconds the container being replaced has to stop after SIGTERM (not part of the diff). */
  readonly stopGraceSeconds: number;
}

interface StartedInputs {
  readonly containerId: string;
  readonly service: string;
  readonly limit: number;
  readonly dockerHost: string;
  readonly probe: readonly string[];
  readonly timeoutSeconds: number;
  readonly stopGraceSeconds: number;
}

/**
 * Starts a container, and hands its service over to it when it replaces another.
 *
 * A service's address is its alias on the stack network, which the stack's ports
 * (components/stackPorts.ts) pass every connection to, so a replacement and the container it
 * replaces can run at once. The Docker provider only creates the new container (next to the
 * running one, under its own name), and this step does the rest in one go: it sets the PIDs limit
 * (CIS 5.29, which the provider's Container has no input for; `docker update` keeps it in the host
 * config), starts the new container, waits for its first healthy answer
 * (components/readiness.ts) and only then stops the old one. Removing the old container happens
 * after, when the engine deletes what was replaced.
 *
 * A new container that does not start or answer is stopped, and the old one keeps the service
 * before the update fails: the service keeps running what it ran, and was never down.
 *
 * A dynamic provider, run from the project's code (components/dynamic.ts) in the provider process
 * all dynamic resources share: it never blocks that process.
 */
export const startedProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: StartedInputs, news: StartedInputs) {
    const changed = (["containerId", "limit", "dockerHost"] as const).filter((k) => olds[k] !== news[k]);
    // A new container is handed over to by an update, which knows the old one.
    return { changes: changed.length > 0, replaces: [] };
  },
  async create(inputs: StartedInputs) {
    await handOver(inputs, undefined);
    return { id: inputs.containerId, outs: inputs };
  },
  async update(_id: string, olds: StartedInputs, news: StartedInputs) {
    await handOver(news, olds.containerId !== news.containerId && olds.dockerHost === news.dockerHost ? olds.containerId : undefined);
    return { outs: news };
  },
  async read(id: string, props: StartedInputs) {
    // A refresh (the drift check) reads whether the container still runs. One stopped or removed
    // by hand reads as no container started, which the next update starts again.
    const running = await dockerOn(props.dockerHost)("inspect", "-f", "{{.State.Status}}", props.containerId);
    return { id, props: running.out === "running" ? props : { ...props, containerId: "" } };
  },
  async delete() {
    // The limit goes with its container, and the container with its own resource.
  },
};

/** Sets the limit on `inputs.containerId`, starts it, waits for it to answer, and stops `previous` (if any). */
async function handOver(inputs: StartedInputs, previous: string | undefined): Promise<void> {
  const docker = dockerOn(inputs.dockerHost);
  const id = inputs.containerId;
  const short = id.slice(0, 12);
  const limited = await docker("update", "--pids-limit", String(inputs.limit), id);
  if (!limited.ok) throw new Error(`fleet: could not set the PIDs limit ${inputs.limit} on container ${short}: ${limited.err}`);
  const started = await startWhenPortsFree(docker, id, inputs.timeoutSeconds);
  if (!started.ok) {
    const back = await keep(docker, previous);
    throw new Error(`fleet: ${inputs.service}: its new container ${short} did not start: ${started.err}${back}`);
  }
  const ready = await firstHealthy(docker, id, inputs.probe, inputs.timeoutSeconds);
  if (!ready.healthy) {
    await docker("stop", "--time", "1", id);
    const back = await keep(docker, previous);
    throw new Error(
      `fleet: ${inputs.service}: its new container ${short} did not answer healthy within ${inputs.timeoutSeconds}s (state: ${ready.state}), although its canary did; see \`docker logs ${short}\`${back}. Last health check and output:\n${ready.probe}\n${ready.logs}`.trim(),
    );
  }
  if (previous) {
    const stopped = await docker("stop", "--time", String(inputs.stopGraceSeconds), previous);
    // Gone already (removed by hand, or by an update that was cut short) is as good as stopped.
    if (!stopped.ok && !/no such container/i.test(stopped.err)) throw new Error(`fleet: ${inputs.service}: its new container ${short} answers, but the container it replaces (${previous.slice(0, 12)}) did not stop: ${stopped.err}`);
  }
}

/** What Docker says when a host port the container publishes is held by another process or container. */
const PORT_HELD = /port is already allocated|address already in use/i;

/**
 * Starts the container; a start refused because a host port it publishes is still held is tried
 * again every half second for up to `timeoutSeconds`. Only the stack's ports publish host ports: on
 * the first up after the services gave them up (an earlier version of fleet published them on the
 * service containers), those containers let go of them as their handovers stop them. A port another
 * program holds fails once the time is up, with Docker's message naming it.
 */
async function startWhenPortsFree(docker: Docker, id: string, timeoutSeconds: number): Promise<DockerResult> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const started = await docker("start", id);
    if (started.ok || !PORT_HELD.test(started.err) || Date.now() > deadline) return started;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** What a container given back its service after a failed handover has added to its name. */
const KEPT_SUFFIX = "-kept";

/**
 * Keeps the service on the container that was running before (started, should it have stopped),
 * and says so for the error it ends. It serves until a handover succeeds (the engine removes it,
 * by ID, only then), so it gives up its name: that name is its settings', and a container with
 * those settings (a rollback to the image it runs) must be able to take it.
 */
async function keep(docker: Docker, previous: string | undefined): Promise<string> {
  if (!previous) return "";
  const back = await docker("start", previous);
  const name = (await docker("inspect", "-f", "{{.Name}}", previous)).out.replace(/^\//, "");
  if (name && !name.endsWith(KEPT_SUFFIX)) await docker("rename", previous, `${name}${KEPT_SUFFIX}`);
  return back.ok ? `; the container it replaces (${previous.slice(0, 12)}) keeps the service` : `; the container it replaces (${previous.slice(0, 12)}) could not be started again: ${back.err}`;
}

/** A container started, and handed the service over to when it replaces another. */
export class ContainerStarted extends ProjectResource {
  constructor(name: string, args: ContainerStartedArgs, opts?: pulumi.CustomResourceOptions) {
    super(DYNAMIC.containerStarted, { file: "components/containerStarted", exportName: "startedProvider" }, name, { ...args, probe: [...args.probe] }, opts);
  }
}
