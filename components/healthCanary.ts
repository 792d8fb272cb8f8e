import * as pulumi from "@pulumi/pulumi";
import { DYNAMIC } from "../contract";
import { ProjectResource } from "./dynamic";
import { dockerOn, firstHealthy } from "./readiness";
import { HEALTH_PROBE } from "./runSpec";

/** Inputs of a HealthCanary. */
export interface HealthCanaryArgs {
  /** The image to prove healthy, `repo@sha256:...`, already pulled on the Docker host. */
  readonly image: pulumi.Input<string>;
  /** Service name, for messages and labels. */
  readonly service: string;
  /** Docker host the canary runs on: the engine of the real container. */
  readonly dockerHost: string;
  /** Container name prefix; a run adds a random suffix. */
  readonly namePrefix: string;
  /** The stack's network, which the real container joins too. */
  readonly network: pulumi.Input<string>;
  /** Labels that name the stack and service, so a later run can find and remove leftovers. */
  readonly labels: Readonly<Record<string, string>>;
  /** `docker run` flags of the real container (from its RunSpec), without ports and name; its secrets' `--env` values are Pulumi secrets. */
  readonly runFlags: readonly pulumi.Input<string>[];
  /** The image's health probe, a command run in the canary (not part of the diff). */
  readonly probe: readonly string[];
  /** How long the image may take to report healthy. */
  readonly timeoutSeconds: number;
}

/** What the provider receives: the args with every input resolved. */
interface CanaryInputs {
  readonly image: string;
  readonly service: string;
  readonly dockerHost: string;
  readonly namePrefix: string;
  readonly network: string;
  readonly labels: Record<string, string>;
  readonly runFlags: string[];
  readonly probe?: readonly string[];
  readonly timeoutSeconds: number;
}

/** What the state keeps: the inputs, and the images this canary has proved healthy. */
interface CanaryState extends CanaryInputs {
  /** Images proved healthy with these settings, newest last (absent in states of older versions). */
  readonly proven?: readonly string[];
}

/** How many proved images a canary remembers: enough to roll back over a long history. */
const PROVEN_KEPT = 50;

/**
 * Runs the image as a throw-away container with the real container's settings (user, env,
 * read-only root, limits, PIDs, a data volume of its own, GPUs) but no host ports, waits for it to
 * report healthy, and removes it. It fails with a message naming the service and image when the
 * image stops or never gets healthy, so the update stops before the running container is touched.
 *
 * It remembers the images it proved healthy with the same settings, so a rollback to one of them
 * (update to an earlier digest) does not run it again; new settings start that memory afresh.
 *
 * A canary cannot outlive its run: its command runs under `timeout -s KILL` (the image's own
 * entrypoint and command, unchanged, beneath it), and leftovers of a run that was killed (same
 * stack and service labels) are removed before the next one starts.
 *
 * A dynamic provider, run from the project's code (components/dynamic.ts) in the provider process
 * all dynamic resources share: it never blocks that process.
 */
export const canaryProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: CanaryState, news: CanaryInputs) {
    const settings = (["dockerHost", "network", "runFlags", "namePrefix"] as const).filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    const changes = settings.length > 0 || olds.image !== news.image;
    return { changes, replaces: settings, deleteBeforeReplace: false };
  },

  // A new image with the same settings: run it, unless this canary already proved it healthy with
  // these settings (a rollback to an earlier digest), and remember it.
  async update(_id: string, olds: CanaryState, news: CanaryInputs) {
    const proven = olds.proven ?? [olds.image];
    if (!proven.includes(news.image)) await this.create!(news);
    return { outs: { ...news, proven: [...proven.filter((i) => i !== news.image), news.image].slice(-PROVEN_KEPT) } };
  },

  async create(inputs: CanaryInputs) {
    const crypto = require("crypto") as typeof import("crypto");
    const docker = dockerOn(inputs.dockerHost);
    const { service, image } = inputs;
    const left = `the running container was left as it was`;
    const labelFilters = Object.entries(inputs.labels).flatMap(([k, v]) => ["--filter", `label=${k}=${v}`]);
    const leftovers = (await docker("ps", "-aq", ...labelFilters)).out.split("\n").filter(Boolean);
    if (leftovers.length) await docker("rm", "-f", "-v", ...leftovers);

    const config = await docker("image", "inspect", "--format", "{{json .Config.Entrypoint}} {{json .Config.Cmd}}", image);
    if (!config.ok) throw new Error(`fleet: ${service}: image ${image} is not on the Docker host (${config.err}); ${left}`);
    const [entrypoint, cmd] = config.out.split(" ").map((j) => (JSON.parse(j) as string[] | null) ?? []);
    const name = `${inputs.namePrefix}-${crypto.randomBytes(4).toString("hex")}`;
    const hardLimit = inputs.timeoutSeconds + 60;
    const labels = Object.entries(inputs.labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
    // tini runs under `timeout` here, not as PID 1: it registers as a subreaper to reap as it would.
    const started = await docker("run", "-d", "--name", name, "--network", inputs.network, "--restart", "no", ...labels, ...inputs.runFlags, "--env", "TINI_SUBREAPER=1",
      "--entrypoint", "timeout", image, "-s", "KILL", String(hardLimit), ...entrypoint, ...cmd);
    try {
      if (!started.ok) throw new Error(`fleet: ${service}: could not start image ${image} with the container's settings (${started.err}); ${left}`);
      // A state from before `probe` was an input: the fleet's one probe (runSpec.ts).
      const ready = await firstHealthy(docker, name, inputs.probe ?? HEALTH_PROBE.slice(1), inputs.timeoutSeconds);
      if (ready.healthy) return { id: `${name}`, outs: { ...inputs, proven: [image] } };
      if (ready.state !== "running") throw new Error(`fleet: ${service}: image ${image} stopped before it was healthy (state: ${ready.state}) when run with the container's settings; ${left}. Its last output:\n${ready.logs}`.trim());
      throw new Error(`fleet: ${service}: image ${image} did not report healthy on /health within ${inputs.timeoutSeconds}s; ${left}. Last health check and output:\n${ready.probe}\n${ready.logs}`.trim());
    } finally {
      await docker("rm", "-f", "-v", name);
    }
  },

  async delete() {
    // Each run removes its own container, pass or fail: nothing is left to delete.
  },
};

/**
 * Proves an image healthy with the real container's settings before anything depends on it. The
 * real container depends on this, so a bad image fails the update while the running container is
 * left as it was.
 */
export class HealthCanary extends ProjectResource {
  /** The image that was proved healthy. */
  public readonly image!: pulumi.Output<string>;

  constructor(name: string, args: HealthCanaryArgs, opts?: pulumi.CustomResourceOptions) {
    super(DYNAMIC.healthCanary, { file: "components/healthCanary", exportName: "canaryProvider" }, name, { ...args, runFlags: [...args.runFlags], probe: [...args.probe], labels: { ...args.labels } }, opts);
  }
}
