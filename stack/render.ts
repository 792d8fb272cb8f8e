import { SECRET_SHOWN } from "./serviceEnv";
import { ResolvedFleet } from "./resolve";

/**
 * What a stack will run, as plain data: what `npm run render -- <stack>` prints, without the Pulumi
 * engine. Secrets appear by name only.
 */
export function renderFleet(fleet: ResolvedFleet): object {
  return {
    stack: fleet.stack,
    machine: fleet.machine,
    profile: fleet.profile.name,
    env: fleet.hardwareEnv,
    registry: fleet.registry,
    baseImage: fleet.baseImage || null,
    ...(fleet.baseMissing ? { baseMissing: fleet.baseMissing } : {}),
    families: fleet.families.map((f) => ({ name: f.name, parent: f.parent, lock: f.lock, tag: f.image.tag })),
    services: fleet.services.map((s) => ({
      name: s.name,
      family: s.family,
      phase: s.phase,
      gpu: s.gpu,
      needsGpu: s.needsGpu,
      gpuDevices: s.gpuRequest?.deviceIds ?? [],
      ports: s.ports,
      workers: s.workers,
      // What the container gets: fleet:secrets by name only.
      env: { ...s.env, ...Object.fromEntries(Object.keys(s.secretEnv).map((k) => [k, SECRET_SHOWN])) },
      limits: s.limits,
      image: s.image.kind === "build" ? { build: s.source, repository: s.image.repository, tag: s.image.tag } : s.image.kind === "stack" ? { fromStack: s.image.stack } : { pinned: s.image.ref },
    })),
    imagesOnly: fleet.imagesOnly.map((s) => s.name),
    imagesFrom: fleet.imagesFrom ?? null,
  };
}
