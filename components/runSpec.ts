import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { GpuRequest } from "../profiles";
import { ResolvedService } from "../stack";

/**
 * How a service's container runs: everything that can make an image fail at run time. The real
 * container and its health canary are both made from one RunSpec, so an image the canary proved
 * healthy is one that runs with exactly these settings.
 */
export interface RunSpec {
  /** Non-root user and group (the plan: 10001:10001). */
  readonly user: string;
  /** The hardware env (fleet:env over the profile's), the service's workers and fleet:serviceEnv, and the fleet's own. */
  readonly env: Readonly<Record<string, string>>;
  /** The service's fleet:secrets, in plain text here: whoever passes them to a resource wraps each with pulumi.secret. */
  readonly secretEnv: Readonly<Record<string, string>>;
  /** Memory limit, MiB; swap is not allowed on top (CIS 5.11). */
  readonly memoryMiB: number;
  /** Relative CPU weight (CIS 5.12). */
  readonly cpuShares: number;
  /** Most processes and threads (CIS 5.29). */
  readonly pidsLimit: number;
  /** Writable places on the otherwise read-only root (CIS 5.13). */
  readonly tmpfs: Readonly<Record<string, string>>;
  /** Capabilities dropped (CIS 5.4). */
  readonly capDrop: readonly string[];
  /** Security options: no privilege gain through setuid binaries (CIS 5.26). */
  readonly securityOpts: readonly string[];
  /** Where the service keeps its state: a volume of its own. */
  readonly dataPath: string;
  /** GPUs, for a service that gets one. */
  readonly gpu?: GpuRequest;
  /** The health probe: the images' own /health check (dockerfiles/healthcheck.py), on a tighter schedule. */
  readonly health: { readonly test: readonly string[]; readonly intervalSeconds: number; readonly timeoutSeconds: number; readonly retries: number; readonly startPeriodSeconds: number };
}

/** Who every fleet container runs as and what it may never do: the plan's user, no capabilities (CIS 5.4), no privilege gain through setuid binaries (CIS 5.26). */
export const HARDENING = { user: "10001:10001", capDrop: ["ALL"], securityOpts: ["no-new-privileges:true"] } as const satisfies Pick<RunSpec, "user" | "capDrop" | "securityOpts">;

/** The one health probe of the fleet, shipped in every image by base-cpu-pydeps. */
export const HEALTH_PROBE: readonly string[] = ["CMD", "python", "/usr/local/lib/fleet/healthcheck.py"];

/** The RunSpec of a service as the stack resolved it. */
export function runSpec(s: ResolvedService): RunSpec {
  return {
    user: HARDENING.user,
    env: s.env,
    secretEnv: s.secretEnv,
    memoryMiB: s.limits.memoryMiB,
    cpuShares: s.limits.cpuShares,
    pidsLimit: s.limits.pidsLimit,
    tmpfs: { "/tmp": "rw,noexec,nosuid,size=64m" },
    capDrop: HARDENING.capDrop,
    securityOpts: HARDENING.securityOpts,
    dataPath: "/data",
    gpu: s.gpuRequest,
    // A generous probe timeout: a loaded machine can take seconds to start the probe's interpreter,
    // which says nothing about the service.
    health: { test: HEALTH_PROBE, intervalSeconds: 5, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 5 },
  };
}

/**
 * The `docker run` flags that apply a RunSpec (without ports, name, network or image), and without
 * its secrets, which the caller adds as Pulumi secrets (`--env` pairs, see secretEnvEntries).
 */
export function dockerRunFlags(spec: RunSpec): string[] {
  return [
    "--user", spec.user,
    "--read-only",
    ...Object.entries(spec.tmpfs).flatMap(([dir, opts]) => ["--tmpfs", `${dir}:${opts}`]),
    ...spec.capDrop.flatMap((c) => ["--cap-drop", c]),
    ...spec.securityOpts.flatMap((o) => ["--security-opt", o]),
    "--memory", `${spec.memoryMiB}m`,
    "--memory-swap", `${spec.memoryMiB}m`,
    "--cpu-shares", String(spec.cpuShares),
    "--pids-limit", String(spec.pidsLimit),
    "--mount", `type=volume,dst=${spec.dataPath}`,
    ...(spec.gpu ? ["--gpus", `"device=${spec.gpu.deviceIds.join(",")}"`] : []),
    "--health-cmd", spec.health.test.slice(1).join(" "),
    "--health-interval", `${spec.health.intervalSeconds}s`,
    "--health-timeout", `${spec.health.timeoutSeconds}s`,
    "--health-retries", String(spec.health.retries),
    "--health-start-period", `${spec.health.startPeriodSeconds}s`,
    ...Object.entries(spec.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
  ];
}

/**
 * The RunSpec's secrets as `KEY=value` entries, each a Pulumi secret: encrypted in state, masked in
 * logs and previews, wherever they go (the container's envs, the canary's run flags).
 */
export function secretEnvEntries(spec: RunSpec): pulumi.Output<string>[] {
  return Object.entries(spec.secretEnv).map(([k, v]) => pulumi.secret(`${k}=${v}`));
}

/**
 * The Docker provider settings every fleet container has, a service's and the stack's ports'
 * alike: its user, capabilities and security options, a read-only root, memory without swap on
 * top (CIS 5.11) and a CPU weight (CIS 5.12), bounded logs, a restart policy, and created, not
 * started: ContainerStarted starts it (its PIDs limit, its first healthy answer, the handover).
 */
export function containerBasics(spec: Pick<RunSpec, "user" | "capDrop" | "securityOpts" | "memoryMiB" | "cpuShares">) {
  return {
    user: spec.user,
    capabilities: { drops: [...spec.capDrop] },
    securityOpts: [...spec.securityOpts],
    readOnly: true,
    memory: spec.memoryMiB,
    memorySwap: spec.memoryMiB,
    cpuShares: spec.cpuShares,
    // unless-stopped, not CIS 5.15's on-failure: an engine that shuts down stops every
    // container with SIGTERM, the service exits 0, and on start the engine restarts only
    // on-failure containers that exited non-zero, so after a reboot the fleet would stay down.
    // A crash loop is still visible (the health check fails) and backs off exponentially.
    restart: "unless-stopped",
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "3" },
    // ContainerStarted waits for the first healthy answer, probing from its start; the provider's
    // wait would take Docker's first probe, one interval after the start.
    wait: false,
    start: false,
    // The provider would wait for a created container to run, and on a refresh remove one that
    // does not; whether it runs is ContainerStarted's to say.
    mustRun: false,
  } satisfies Partial<docker.ContainerArgs>;
}
