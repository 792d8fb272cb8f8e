import * as pulumi from "@pulumi/pulumi";
import { DYNAMIC } from "../contract";
import { ProjectResource } from "./dynamic";
import { dockerOn, firstHealthy } from "./readiness";

/** Inputs of a ContainerStarted. */
export interface ContainerStartedArgs {
  /** The container's ID; a new container is started again. */
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
}

interface StartedInputs {
  readonly containerId: string;
  readonly service: string;
  readonly limit: number;
  readonly dockerHost: string;
  readonly probe: readonly string[];
  readonly timeoutSeconds: number;
}

/**
 * What a new container needs once it runs: the engine's PIDs limit (CIS 5.29), which the Docker
 * provider's Container has no input for (`docker update --pids-limit`, kept in the container's host
 * config, so it holds across engine restarts), and its first healthy answer (components/readiness.ts):
 * the update goes on, to the `:prev` tag and the report, once the service answers. A dynamic
 * provider, run from the project's code (components/dynamic.ts) in the provider process all
 * dynamic resources share: it never blocks that process.
 */
export const startedProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: StartedInputs, news: StartedInputs) {
    const changed = (["containerId", "limit", "dockerHost"] as const).filter((k) => olds[k] !== news[k]);
    // A new value is applied by a new create: delete has nothing to undo.
    return { changes: changed.length > 0, replaces: changed };
  },
  async create(inputs: StartedInputs) {
    const docker = dockerOn(inputs.dockerHost);
    const limited = await docker("update", "--pids-limit", String(inputs.limit), inputs.containerId);
    if (!limited.ok) throw new Error(`fleet: could not set the PIDs limit ${inputs.limit} on container ${inputs.containerId}: ${limited.err}`);
    const ready = await firstHealthy(docker, inputs.containerId, inputs.probe, inputs.timeoutSeconds);
    if (!ready.healthy) {
      throw new Error(
        `fleet: ${inputs.service}: its new container ${inputs.containerId.slice(0, 12)} did not answer healthy within ${inputs.timeoutSeconds}s (state: ${ready.state}), although its canary did; see \`docker logs\`. Last health check and output:\n${ready.probe}\n${ready.logs}`.trim(),
      );
    }
    return { id: inputs.containerId, outs: inputs };
  },
  async delete() {
    // The limit goes with its container.
  },
};

/** A container's PIDs limit and its first healthy answer, once it runs. */
export class ContainerStarted extends ProjectResource {
  constructor(name: string, args: ContainerStartedArgs, opts?: pulumi.CustomResourceOptions) {
    super(DYNAMIC.containerStarted, { file: "components/containerStarted", exportName: "startedProvider" }, name, { ...args, probe: [...args.probe] }, opts);
  }
}
