import * as pulumi from "@pulumi/pulumi";
import { FleetInputError, invalidStackMessage } from "./errors";
import { PartialUpdate, readPartial } from "./partial";
import { ResolvedFleet, resolveStack, secretLeaves } from "./stack";

/**
 * Whether the engine holds a config key encrypted. The SDK's runtime has this (it reads the
 * PULUMI_CONFIG_SECRET_KEYS the language host sets) but leaves it out of its typings; without it
 * nothing is known and nothing is reported.
 */
function engineSecret(key: string): boolean {
  const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  return isConfigSecret ? isConfigSecret(key) : true;
}

/**
 * The fleet:secrets values the stack holds in plain text. The engine marks a whole key secret when
 * any value under it is encrypted, so a key it does not mark holds every value in plain text
 * (`npm run render` checks the stack file value by value).
 */
function plainSecrets(raw: Readonly<Record<string, string>>): string[] {
  if (!raw.secrets || engineSecret("fleet:secrets")) return [];
  try {
    return secretLeaves(JSON.parse(raw.secrets));
  } catch {
    return []; // the decoder reports a value that is not a mapping
  }
}

/**
 * The only reader of Pulumi config. It hands every `fleet:` value, exactly as the engine gives it
 * (stack file over Pulumi.yaml defaults), to the same pure resolver that `npm run render` uses.
 * All config is read, not just the known keys, so a misspelt key is an error rather than ignored.
 * Invalid input stops the program before any resource is registered.
 *
 * fleet:secrets arrives decrypted like every value; the resolved fleet carries it apart from the
 * plain env (ResolvedService.secretEnv) and the components wrap it with pulumi.secret, so it is
 * encrypted in state and masked in output whether or not the stack file held it encrypted (and a
 * stack file that holds it in plain text is an error).
 */
export function loadFleet(projectDir: string = __dirname): ResolvedFleet {
  const stack = pulumi.getStack();
  const raw = Object.fromEntries(
    Object.entries(pulumi.runtime.allConfig())
      .filter(([key]) => key.startsWith("fleet:"))
      .map(([key, value]) => [key.slice("fleet:".length), value]),
  );
  let fleet: ResolvedFleet;
  try {
    fleet = resolveStack(projectDir, stack, { config: { raw, plainSecrets: plainSecrets(raw) } });
  } catch (e) {
    // A RunError is printed as its message alone: the user sees what to fix, not a stack trace.
    if (e instanceof FleetInputError) throw new pulumi.RunError(invalidStackMessage(stack, e));
    throw e;
  }
  if (fleet.baseMissing) throw new pulumi.RunError(`fleet: stack ${stack}: ${fleet.baseMissing}; nothing was changed`);
  return fleet;
}


/**
 * The partial update `fleet rollback` asked for (partial.ts), or undefined for the whole program.
 * A bad one stops the program before any resource is registered.
 */
export function loadPartial(fleet: ResolvedFleet): PartialUpdate | undefined {
  try {
    return readPartial(fleet);
  } catch (e) {
    if (e instanceof FleetInputError) throw new pulumi.RunError(`fleet: stack ${fleet.stack}: the partial update is not valid; nothing was changed:\n${e.problems.map((p) => `  ${p}`).join("\n")}`);
    throw e;
  }
}
