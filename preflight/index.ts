import * as pulumi from "@pulumi/pulumi";
import { ResolvedFleet } from "../stack";
import { gpuPreflight, PreflightError } from "./gpu";
import { serviceProblems } from "./services";

/**
 * Everything `pulumi up` checks about the machine before it changes anything; preview skips it,
 * since it builds and changes nothing. Every problem is printed, one line each, as a RunError (no
 * stack trace), and the update stops before any resource is registered.
 */
export async function preflight(fleet: ResolvedFleet): Promise<void> {
  if (pulumi.runtime.isDryRun()) return;
  const problems = await serviceProblems(fleet);
  if (problems.length) throw new pulumi.RunError(`fleet: stack ${fleet.stack} cannot be updated:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  // The engine answers: can it give the stack's GPU services their GPUs (preflight/gpu.ts)?
  try {
    gpuPreflight(fleet);
  } catch (e) {
    if (e instanceof PreflightError) throw new pulumi.RunError(e.message);
    throw e;
  }
}
