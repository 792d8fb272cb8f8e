/** What the fleet reads of a CycloneDX document. */
export interface SbomSummary {
  readonly specVersion: string;
  /** Number of components listed. */
  readonly components: number;
  /** Components by package type (purl type: deb, pypi...). */
  readonly byType: Readonly<Record<string, number>>;
}

/**
 * Checks that `json` is a CycloneDX JSON SBOM of spec 1.5 or 1.6 that lists components, and
 * summarises it. Throws with what is wrong otherwise.
 */
export function summariseSbom(json: string): SbomSummary {
  let doc: { bomFormat?: unknown; specVersion?: unknown; components?: unknown };
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error(`the SBOM is not JSON: ${json.slice(0, 200)}`);
  }
  if (doc?.bomFormat !== "CycloneDX") throw new Error(`the SBOM is not CycloneDX (bomFormat ${JSON.stringify(doc?.bomFormat)})`);
  if (doc.specVersion !== "1.5" && doc.specVersion !== "1.6") throw new Error(`the SBOM has CycloneDX spec ${JSON.stringify(doc.specVersion)}; 1.5 or 1.6 is expected`);
  if (!Array.isArray(doc.components)) throw new Error("the SBOM lists no components");
  const byType: Record<string, number> = {};
  for (const c of doc.components as { purl?: unknown }[]) {
    const type = typeof c.purl === "string" ? (/^pkg:([^/]+)\//.exec(c.purl)?.[1] ?? "other") : "none";
    byType[type] = (byType[type] ?? 0) + 1;
  }
  return { specVersion: doc.specVersion, components: doc.components.length, byType };
}
