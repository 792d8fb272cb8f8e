import { Limits, Profile } from "./schema";

/** The settings every container receives from its machine's profile, as environment variables. */
export function profileEnv(profile: Profile): Record<string, string> {
  return Object.fromEntries(Object.entries(profile.env).map(([k, v]) => [k, String(v)]));
}

/** A request for GPUs, in the shape of Docker's device requests. */
export interface GpuRequest {
  /** Always "nvidia": the NVIDIA container runtime serves the request. */
  readonly driver: "nvidia";
  /** Host GPU indexes, as strings. */
  readonly deviceIds: readonly string[];
  /** Docker device capabilities. */
  readonly capabilities: readonly string[];
}

/**
 * The GPU request of a container: the profile's GPU_VISIBLE_DEVICES for a service that needs a GPU,
 * nothing for one that does not or when the stack runs CPU-only. Callers check first that a GPU
 * service has a GPU to get (see resolveFleet).
 */
export function gpuRequest(profile: Profile, needsGpu: boolean, cpuOnly: boolean): GpuRequest | undefined {
  if (!needsGpu || cpuOnly || profile.env.GPU_VISIBLE_DEVICES === "") return undefined;
  return { driver: "nvidia", deviceIds: profile.env.GPU_VISIBLE_DEVICES.split(","), capabilities: ["gpu"] };
}

/**
 * Memory, CPU and PIDs limits for a service's container: the profile's GPU class for a GPU service,
 * else its CPU class, with the profile's per-service changes on top.
 */
export function limitsFor(profile: Profile, service: { readonly name: string; readonly gpu: boolean }): Limits {
  return { ...(service.gpu ? profile.limits.gpu : profile.limits.cpu), ...profile.limits.services[service.name] };
}
