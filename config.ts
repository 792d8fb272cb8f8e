import * as pulumi from "@pulumi/pulumi";
import { FleetInputError, invalidStackMessage } from "./errors";
import { gitRevisions } from "./source/git";
import { decodeStackConfig, pipCaFile, ResolvedFleet, resolveFleet } from "./stack";

/**
 * The only reader of Pulumi config. It hands every `fleet:` value, exactly as the engine gives it
 * (stack file over Pulumi.yaml defaults), to the same pure resolver that `npm run render` uses.
 * All config is read, not just the known keys, so a misspelt key is an error rather than ignored.
 * Invalid input stops the program before any resource is registered.
 */
export function loadFleet(projectDir: string = __dirname): ResolvedFleet {
  const stack = pulumi.getStack();
  const stackFile = `Pulumi.${stack}.yaml`;
  const raw = Object.fromEntries(
    Object.entries(pulumi.runtime.allConfig())
      .filter(([key]) => key.startsWith("fleet:"))
      .map(([key, value]) => [key.slice("fleet:".length), value]),
  );
  try {
    return resolveFleet({ stack, stackFile, config: decodeStackConfig(raw, stackFile), projectDir, revisionOf: gitRevisions(projectDir), pipCaFile: pipCaFile() });
  } catch (e) {
    // A RunError is printed as its message alone: the user sees what to fix, not a stack trace.
    if (e instanceof FleetInputError) throw new pulumi.RunError(invalidStackMessage(stack, e));
    throw e;
  }
}

