/**
 * `npm run render -- <stack>`: prints the fleet a stack will run as JSON, without the Pulumi engine,
 * computed by the same resolver as index.ts. Bad input: a clear message on stderr and exit 1.
 */
import * as path from "path";
import { FleetInputError, invalidStackMessage } from "../errors";
import { gitRevisions } from "../source/git";
import { decodeStackConfig, pipCaFile, readStackConfig, ResolvedFleet, resolveFleet } from "../stack";

/** The JSON shape printed by render. */
export function renderFleet(fleet: ResolvedFleet): object {
  return {
    stack: fleet.stack,
    machine: fleet.machine,
    profile: fleet.profile.name,
    registry: fleet.registry,
    baseImage: fleet.baseImage,
    families: fleet.families.map((f) => ({ name: f.name, parent: f.parent, lock: f.lock, tag: f.image.tag })),
    services: fleet.services.map((s) => ({
      name: s.name,
      family: s.family,
      phase: s.phase,
      gpu: s.gpu,
      needsGpu: s.needsGpu,
      gpuDevices: s.gpuRequest?.deviceIds ?? [],
      ports: s.ports,
      env: s.env,
      limits: s.limits,
      image: s.image.kind === "build" ? { build: s.source, repository: s.image.repository, tag: s.image.tag } : s.image.kind === "stack" ? { fromStack: s.image.stack } : { pinned: s.image.ref },
    })),
    imagesOnly: fleet.imagesOnly.map((s) => s.name),
    imagesFrom: fleet.imagesFrom ?? null,
  };
}

/** Resolves `stack` from the project's files, as the engine would. */
export function resolveStack(projectDir: string, stack: string): ResolvedFleet {
  const { file, raw } = readStackConfig(projectDir, stack);
  return resolveFleet({ stack, stackFile: file, config: decodeStackConfig(raw, file), projectDir, revisionOf: gitRevisions(projectDir), pipCaFile: pipCaFile() });
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
