import { parsePinnedRef } from "../registry";

/** What the ObservabilityCenter is told about a service that runs a new digest. */
export interface InventoryReport {
  readonly service: string;
  readonly machine: string;
  readonly stack: string;
  /** `repo@sha256:...` the container runs. */
  readonly image: string;
  /** Its manifest digest. */
  readonly digest: string;
  /** The sha256 (hex) of the image's inputs, its `dev.fleet.inputs` label ("pinned" for a forced digest the source does not build, "unknown" for one another stack built). */
  readonly inputs: string;
  /** The git HEAD of the checkout that first deployed the digest, or "unknown"; the image itself carries no commit. */
  readonly commit: string;
  /** The image's CycloneDX SBOM, as a JSON document. */
  readonly sbom: unknown;
}

/** The body POSTed to the ObservabilityCenter's /sbom; the digest is the image's own. */
export function reportBody(r: { service: string; machine: string; stack: string; image: string; inputs: string; commit: string; sbom: string }): InventoryReport {
  const { digest } = parsePinnedRef(r.image);
  return { service: r.service, machine: r.machine, stack: r.stack, image: r.image, digest, inputs: r.inputs, commit: r.commit, sbom: JSON.parse(r.sbom) };
}
