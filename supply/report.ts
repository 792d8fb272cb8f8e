import { parseImageRef } from "./registry";

/** What the ObservabilityCenter is told about a service that runs a new digest. */
export interface InventoryReport {
  readonly service: string;
  readonly machine: string;
  readonly stack: string;
  /** `repo@sha256:...` the container runs. */
  readonly image: string;
  /** Its manifest digest. */
  readonly digest: string;
  /** The git commit the image was built from ("pinned" for an image the stack forces). */
  readonly revision: string;
  /** The image's CycloneDX SBOM, as a JSON document. */
  readonly sbom: unknown;
}

/** The body POSTed to the ObservabilityCenter's /sbom; the digest is the image's own. */
export function reportBody(r: { service: string; machine: string; stack: string; image: string; revision: string; sbom: string }): InventoryReport {
  const { digest } = parseImageRef(r.image);
  return { service: r.service, machine: r.machine, stack: r.stack, image: r.image, digest, revision: r.revision, sbom: JSON.parse(r.sbom) };
}
