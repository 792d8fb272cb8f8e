import * as pulumi from "@pulumi/pulumi";

/** Inputs of a HealthCanary. */
export interface HealthCanaryArgs {
  /** The image to prove healthy, `repo@sha256:...`; a new image replaces the canary, which runs again. */
  readonly image: pulumi.Input<string>;
  /** The bash script that runs the canary (see canaryScript in health.ts). */
  readonly script: pulumi.Input<string>;
  /** Docker host the script talks to. */
  readonly dockerHost: pulumi.Input<string>;
}

interface CanaryState {
  readonly image: string;
  readonly script: string;
  readonly dockerHost: string;
}

/**
 * Runs the canary script on create and fails with its message when the image never gets healthy.
 * A dynamic provider, run by the program's own Node process: the methods are serialized into the
 * state, so they require what they use and capture nothing.
 */
const canaryProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: CanaryState, news: CanaryState) {
    const changed = (["image", "script", "dockerHost"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
  },
  async create(inputs: CanaryState) {
    const { spawnSync } = require("child_process") as typeof import("child_process");
    const r = spawnSync("/bin/bash", ["-c", inputs.script], { env: { ...process.env, DOCKER_HOST: inputs.dockerHost }, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    if (r.status !== 0) throw new Error((r.stderr || r.error?.message || `canary exited ${r.status}`).trim());
    const digest = inputs.image.slice(inputs.image.lastIndexOf("@") + 1);
    return { id: `canary-${digest.slice(7, 19)}-${Date.now()}`, outs: inputs };
  },
  async delete() {
    // The script removes its canary container itself, pass or fail: nothing is left to delete.
  },
};

/**
 * Proves an image healthy before anything depends on it: a throw-away container with the service's
 * settings but no host ports must report healthy on /health. The real container depends on this,
 * so a bad image fails the update while the running container is left as it was.
 */
export class HealthCanary extends pulumi.dynamic.Resource {
  /** The image that was proved healthy. */
  public readonly image!: pulumi.Output<string>;

  constructor(name: string, args: HealthCanaryArgs, opts?: pulumi.CustomResourceOptions) {
    super(canaryProvider, name, { ...args }, opts, "fleet", "HealthCanary");
  }
}
