import * as pulumi from "@pulumi/pulumi";
import { DYNAMIC, DYNAMIC_MODULE } from "../contract";
import { exec } from "../proc";
import { projectProvider } from "./dynamic";

/** Inputs of a PidsLimit. */
export interface PidsLimitArgs {
  /** The container's ID; a new container gets the limit again. */
  readonly containerId: pulumi.Input<string>;
  /** Most processes and threads the container may have. */
  readonly limit: number;
  /** Docker host of the container. */
  readonly dockerHost: string;
}

interface PidsInputs {
  readonly containerId: string;
  readonly limit: number;
  readonly dockerHost: string;
}

/**
 * Sets the engine's PIDs limit on a container (CIS 5.29), which the Docker provider's Container
 * has no input for: `docker update --pids-limit`, the engine's update API. The limit is kept in
 * the container's host config, so it holds across engine restarts. A dynamic provider, run from the
 * project's code (components/dynamic.ts) in the provider process all dynamic resources share: it
 * never blocks that process.
 */
export const pidsProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: PidsInputs, news: PidsInputs) {
    const changed = (["containerId", "limit", "dockerHost"] as const).filter((k) => olds[k] !== news[k]);
    // A new value is applied by a new create: delete has nothing to undo.
    return { changes: changed.length > 0, replaces: changed };
  },
  async create(inputs: PidsInputs) {
    const r = await exec("docker", ["update", "--pids-limit", String(inputs.limit), inputs.containerId], { env: { ...process.env, DOCKER_HOST: inputs.dockerHost } });
    if (r.status !== 0) throw new Error(`fleet: could not set the PIDs limit ${inputs.limit} on container ${inputs.containerId}: ${r.stderr.trim()}`);
    return { id: inputs.containerId, outs: inputs };
  },
  async delete() {
    // The limit goes with its container.
  },
};

/** The PIDs limit of one container, applied through the engine's update API. */
export class PidsLimit extends pulumi.dynamic.Resource {
  constructor(name: string, args: PidsLimitArgs, opts?: pulumi.CustomResourceOptions) {
    super(projectProvider("components/pidsLimit", "pidsProvider"), name, { ...args }, opts, DYNAMIC_MODULE, DYNAMIC.pidsLimit);
  }
}
