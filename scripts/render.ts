/**
 * `npm run render -- <stack>`: prints the fleet a stack will run as JSON, without the Pulumi engine,
 * computed by the same resolver as index.ts. Bad input: a clear message on stderr and exit 1.
 */
import * as path from "path";
import { FleetInputError, invalidStackMessage } from "../errors";
import { ResolvedFleet, resolveStack, SECRET_SHOWN } from "../stack";

/** The JSON shape printed by render. */
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

function main(argv: string[]): number {
  const stack = argv[0];
  if (!stack || argv.length > 1) {
    process.stderr.write("usage: npm run render -- <stack>   (a stack is a Pulumi.<stack>.yaml file: mainpc, pc2, local; FLEET_PROJECT_DIR: another checkout)\n");
    return 2;
  }
  try {
    process.stdout.write(JSON.stringify(renderFleet(resolveStack(process.env.FLEET_PROJECT_DIR ?? path.resolve(__dirname, ".."), stack)), null, 2) + "\n");
    return 0;
  } catch (e) {
    if (!(e instanceof FleetInputError)) throw e;
    process.stderr.write(`${invalidStackMessage(stack, e)}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
