/**
 * The project's steps the dynamic resources take: the supply chain's (supply/steps.ts) and moving
 * a registry tag (registry/). Loaded on first use, in the provider process only: the program that
 * declares the resources never loads the scanners' and registry's code. Tests put stand-ins in.
 */
import type { report, sbom, scan } from "../supply/steps";

/** What the dynamic resources ask of the project. */
export interface Steps {
  readonly sbom: typeof sbom;
  readonly scan: typeof scan;
  readonly report: typeof report;
  /** Points `tag` at `image` in its registry, spoken to as the engine at `dockerHost` trusts it. */
  readonly tag: (req: { image: string; tag: string; dockerHost: string }) => Promise<void>;
}

let standIn: Steps | undefined;

/** The project's steps (or the stand-ins a test put in). */
export function steps(): Steps {
  if (standIn) return standIn;
  const supply = require("../supply/steps") as typeof import("../supply/steps");
  const { Registry } = require("../registry") as typeof import("../registry");
  return {
    sbom: supply.sbom,
    scan: supply.scan,
    report: supply.report,
    tag: async (req) => (await Registry.forImage(req.image, req.dockerHost)).tag(req.image, req.tag),
  };
}

/** Tests: the steps the providers take until the next call (undefined: the project's own again). */
export function standInSteps(s: Steps | undefined): void {
  standIn = s;
}
