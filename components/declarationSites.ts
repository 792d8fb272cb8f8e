import * as pulumi from "@pulumi/pulumi";

/** The SDK's static that captures, for each resource it registers, the JavaScript stack that declared it. */
interface StackTraceCapture {
  stackTrace?: ((skip: number) => unknown[]) & { firstFrameOnly?: true };
}

/**
 * Makes every resource registered from now on keep, in the state, only the place the fleet declared
 * it (the first frame: Pulumi's `sourcePosition`, what Pulumi Cloud links to), not the whole
 * JavaScript stack under it. The SDK records about twenty frames a resource, through the fleet's
 * components, the SDK and the language host: 0.8 KB of the state a resource, 7 KB of each service's
 * 47 KB, which the backend stores and rewrites at every step of every update. Nothing a user reads
 * is lost. An SDK without that capture is left as it is.
 */
export function keepDeclarationSitesOnly(): void {
  const capture = pulumi.Resource as unknown as StackTraceCapture;
  const full = capture.stackTrace;
  if (typeof full !== "function" || full.firstFrameOnly) return;
  // skip + 1: the SDK counts the frames to skip from its own function, and this one adds a frame.
  capture.stackTrace = Object.assign((skip: number) => full.call(pulumi.Resource, skip + 1).slice(0, 1), { firstFrameOnly: true as const });
}
