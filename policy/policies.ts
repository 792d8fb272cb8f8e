import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { buildCatalog } from "../catalog/catalog";
import { BUILD_ARGS, LABELS, PORTS_ROLE, TYPES } from "../contract";
import { profileSchema } from "../profiles/schema";

/*
 * The plan's container rules (the security baseline in the design brief, CIS Docker Benchmark 4.x
 * and 5.x) as CrossGuard policies. Each policy is a plain object so tests call `validateResource`
 * or `validateStack` with hand-built arguments; only policy/index.ts builds the PolicyPack (its
 * constructor starts serving). Every policy is mandatory: a violation stops preview and up.
 */

/** The uid:gid every fleet image creates its user with (dockerfiles/base-cpu-pydeps.Dockerfile). */
export const FLEET_USER = "10001:10001";

/** The profile settings every container must receive: the keys of a profile's `env`. */
export const PROFILE_ENV_KEYS: readonly string[] = Object.keys(profileSchema.shape.env.shape);

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const PINNED_REF = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

/** Whether `image` names exactly one image: `repo@sha256:<64 hex>`, or an image ID `sha256:<64 hex>`. */
export function isPinned(image: unknown): boolean {
  return typeof image === "string" && (PINNED_REF.test(image) || DIGEST.test(image));
}

/** The value of a container's label `label` (one of LABELS), if it has it. */
function labelOf(props: Record<string, any>, label: string): string | undefined {
  const labels: { label?: string; value?: string }[] = props.labels ?? [];
  return labels.find((l) => l.label === label)?.value;
}

/** The service a container runs, from its `dev.fleet.service` label. */
export function serviceOf(props: Record<string, any>): string | undefined {
  return labelOf(props, LABELS.service);
}

/** Runs `check` on containers only, with their props and the report function. */
function onContainers(check: (props: Record<string, any>, report: ReportViolation) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation): void => {
    if (args.type === TYPES.container) check(args.props, report);
  };
}

/** The name to put in a message: the service, else the container name. */
function who(props: Record<string, any>): string {
  return serviceOf(props) ?? props.name ?? "container";
}

/** A container runs an image pinned by digest, and a pulled image is pulled by digest (CIS 4.2). */
export const imagesPinned: ResourceValidationPolicy = {
  name: "images-pinned-by-digest",
  description: "Containers run, and pulls fetch, images named by @sha256 digest; builds start FROM digests.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const p = args.props;
    if (args.type === TYPES.remoteImage && !isPinned(p.name)) {
      report(`pulled image must be pinned as repo@sha256:<digest>; got "${p.name}"`);
    }
    if (args.type === TYPES.container) {
      if (!isPinned(p.image)) report(`${who(p)}: image must be pinned (repo@sha256:<digest> or an image ID); got "${p.image}"`);
      const labels: { label?: string; value?: string }[] = p.labels ?? [];
      const ref = labels.find((l) => l.label === LABELS.image)?.value;
      if (ref !== undefined && !PINNED_REF.test(ref)) report(`${who(p)}: label ${LABELS.image} must be repo@sha256:<digest>; got "${ref}"`);
    }
    if (args.type === TYPES.builtImage) {
      for (const key of [BUILD_ARGS.base, BUILD_ARGS.family]) {
        const from = p.buildArgs?.[key];
        if (from !== undefined && !PINNED_REF.test(from)) report(`build arg ${key} (the image built FROM) must be repo@sha256:<digest>; got "${from}"`);
      }
    }
  },
};

/** Containers run as the fleet's unprivileged user (CIS 4.1). */
export const runsAsFleetUser: ResourceValidationPolicy = {
  name: "runs-as-10001",
  description: `Containers run as ${FLEET_USER}, never root.`,
  enforcementLevel: "mandatory",
  validateResource: onContainers((p, report) => {
    if (p.user !== FLEET_USER) report(`${who(p)}: user must be ${FLEET_USER}; got ${p.user === undefined ? "none (the image's, root by default)" : `"${p.user}"`}`);
  }),
};

/** The root filesystem is read-only (CIS 5.13). */
export const readOnlyRoot: ResourceValidationPolicy = {
  name: "read-only-root",
  description: "Containers have a read-only root filesystem (state goes to /data and /tmp).",
  enforcementLevel: "mandatory",
  validateResource: onContainers((p, report) => {
    if (p.readOnly !== true) report(`${who(p)}: readOnly must be true (a read-only root filesystem); got ${String(p.readOnly)}`);
  }),
};

/** Every Linux capability is dropped and none added (CIS 5.4). */
export const capabilitiesDropped: ResourceValidationPolicy = {
  name: "capabilities-dropped",
  description: "Containers drop ALL capabilities and add none.",
  enforcementLevel: "mandatory",
  validateResource: onContainers((p, report) => {
    const drops: string[] = p.capabilities?.drops ?? [];
    const adds: string[] = p.capabilities?.adds ?? [];
    if (!drops.map((d) => d.toUpperCase()).includes("ALL")) report(`${who(p)}: capabilities.drops must include ALL; got [${drops.join(", ")}]`);
    if (adds.length > 0) report(`${who(p)}: capabilities.adds must be empty; got [${adds.join(", ")}]`);
  }),
};

/** No privileged containers, and none sharing the host's namespaces (CIS 5.5, 5.10, 5.16-5.21). */
export const notPrivileged: ResourceValidationPolicy = {
  name: "not-privileged",
  description: "Containers are not privileged and share no host namespace (network, pid, ipc, userns).",
  enforcementLevel: "mandatory",
  validateResource: onContainers((p, report) => {
    if (p.privileged === true) report(`${who(p)}: privileged must be false; got true`);
    for (const key of ["networkMode", "pidMode", "ipcMode", "usernsMode"]) {
      if (p[key] === "host") report(`${who(p)}: ${key} must not be "host"`);
    }
  }),
};

/** setuid binaries cannot gain privileges (CIS 5.26). */
export const noNewPrivileges: ResourceValidationPolicy = {
  name: "no-new-privileges",
  description: 'Containers run with the security option "no-new-privileges".',
  enforcementLevel: "mandatory",
  validateResource: onContainers((p, report) => {
    const opts: string[] = p.securityOpts ?? [];
    if (!opts.some((o) => o === "no-new-privileges" || o === "no-new-privileges:true")) {
      report(`${who(p)}: securityOpts must include "no-new-privileges:true"; got [${opts.join(", ")}]`);
    }
  }),
};

/** A memory limit, with swap no larger than it (CIS 5.11). */
export const memoryLimited: ResourceValidationPolicy = {
  name: "memory-limit",
  description: "Containers have a memory limit (MiB) and no swap beyond it.",
  enforcementLevel: "mandatory",
  validateResource: onContainers((p, report) => {
    if (!(typeof p.memory === "number" && p.memory > 0)) report(`${who(p)}: memory must be a limit in MiB above 0; got ${String(p.memory)}`);
    else if (typeof p.memorySwap === "number" && p.memorySwap !== p.memory) report(`${who(p)}: memorySwap must equal memory (${p.memory}) so no swap is used; got ${p.memorySwap}`);
  }),
};

/**
 * A PIDs limit on every container (CIS 5.29). The docker provider's Container has no such input,
 * so the program sets it when the container starts, with a ContainerStarted resource whose
 * `containerId` is the container's ID: this policy looks across the stack for a ContainerStarted
 * with a positive `limit` that depends on each container through that input.
 */
export const pidsLimited: StackValidationPolicy = {
  name: "pids-limit",
  description: "Every container has a PIDs limit (a ContainerStarted resource with limit > 0 on its container ID).",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const limited = new Set<string>();
    for (const r of args.resources) {
      if (r.type !== TYPES.containerStarted) continue;
      const n = r.props.limit;
      if (!(typeof n === "number" && n > 0)) continue;
      for (const dep of r.propertyDependencies?.containerId ?? []) limited.add(dep.urn);
    }
    for (const r of args.resources.filter((r) => r.type === TYPES.container)) {
      if (!limited.has(r.urn)) report(`${who(r.props)}: container has no PIDs limit (no ${TYPES.containerStarted} with limit > 0 on its ID)`, r.urn);
    }
  },
};

/** A Docker healthcheck (CIS 5.27). */
export const healthchecked: ResourceValidationPolicy = {
  name: "healthcheck",
  description: "Containers have a Docker healthcheck (the /health probe).",
  enforcementLevel: "mandatory",
  validateResource: onContainers((p, report) => {
    const tests: string[] = p.healthcheck?.tests ?? [];
    if (tests.length === 0 || tests[0] === "NONE") report(`${who(p)}: healthcheck.tests must run a probe; got ${tests.length ? `[${tests.join(", ")}]` : "none"}`);
  }),
};

/** Whether a service needs a GPU, from the catalog (its family or an ancestor needs one); undefined when unknown. */
export function serviceNeedsGpu(service: string): boolean | undefined {
  return buildCatalog().services.find((s) => s.name === service)?.gpu;
}

/**
 * GPUs go only to services whose family needs one. The service is read from the container's
 * `dev.fleet.service` label and looked up in the catalog, so a container cannot grant itself a GPU
 * by what it says about its family.
 */
export const gpuOnlyWhereNeeded: ResourceValidationPolicy = {
  name: "gpu-only-where-needed",
  description: "Only containers of services whose family needs a GPU request one.",
  enforcementLevel: "mandatory",
  validateResource: onContainers((p, report) => {
    const requests: unknown[] = p.deviceRequests ?? [];
    if (requests.length === 0 && !p.gpus) return;
    const service = serviceOf(p);
    if (service === undefined) return report(`${who(p)}: requests a GPU but has no ${LABELS.service} label to tell whether its family needs one`);
    const needs = serviceNeedsGpu(service);
    if (needs === undefined) report(`${service}: requests a GPU but is not a service of the catalog (catalog/services.ts)`);
    else if (!needs) report(`${service}: requests a GPU but its family needs none (catalog/families.ts)`);
  }),
};

/** The stack facts a policy needs beyond the resource itself. */
export interface StackFacts {
  /** `fleet:publishAllInterfaces`: the stack's explicit opt-in to publishing ports on every interface. */
  readonly publishAllInterfaces: boolean;
}

/** Reads StackFacts from a stack's config map (`fleet:key` -> value as the engine passes it). */
export function stackFacts(config: Readonly<Record<string, unknown>>): StackFacts {
  return { publishAllInterfaces: String(config["fleet:publishAllInterfaces"] ?? "false") === "true" };
}

const ALL_INTERFACES = new Set(["", "0.0.0.0", "::", "[::]"]);

/** Ports are published on one chosen interface, never all of them, unless the stack opts in (CIS 5.14). */
export function publishOnChosenInterface(facts: StackFacts): ResourceValidationPolicy {
  return {
    name: "no-publish-on-all-interfaces",
    description: "Ports are bound to the stack's bindAddress, not 0.0.0.0, unless fleet:publishAllInterfaces is true.",
    enforcementLevel: "mandatory",
    validateResource: onContainers((p, report) => {
      if (p.publishAllPorts === true) report(`${who(p)}: publishAllPorts must be false`);
      if (facts.publishAllInterfaces) return;
      for (const port of (p.ports ?? []) as { ip?: string; external?: number; internal?: number }[]) {
        if (ALL_INTERFACES.has(port.ip ?? "")) {
          report(`${who(p)}: port ${port.external ?? port.internal} is published on all interfaces (ip "${port.ip ?? ""}"); bind it to fleet:bindAddress, or set fleet:publishAllInterfaces: true`);
        }
      }
    }),
  };
}

/** Every container gets the machine profile's settings (the plan's hardware-aware defaults). */
export const profileEnvPresent: ResourceValidationPolicy = {
  name: "profile-env-present",
  description: `Containers receive every profile setting: ${PROFILE_ENV_KEYS.join(", ")} (all but the stack's ports, which run no service).`,
  enforcementLevel: "mandatory",
  validateResource: onContainers((p, report) => {
    if (labelOf(p, LABELS.role) === PORTS_ROLE) return;
    const keys = new Set(((p.envs ?? []) as string[]).map((e) => e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("="))));
    const missing = PROFILE_ENV_KEYS.filter((k) => !keys.has(k));
    if (missing.length) report(`${who(p)}: environment lacks the profile's ${missing.join(", ")}`);
  }),
};

/** Every policy of the fleet pack, for a stack with these facts. */
export function fleetPolicies(facts: StackFacts): (ResourceValidationPolicy | StackValidationPolicy)[] {
  return [
    imagesPinned,
    runsAsFleetUser,
    readOnlyRoot,
    capabilitiesDropped,
    notPrivileged,
    noNewPrivileges,
    memoryLimited,
    pidsLimited,
    healthchecked,
    gpuOnlyWhereNeeded,
    publishOnChosenInterface(facts),
    profileEnvPresent,
  ];
}
