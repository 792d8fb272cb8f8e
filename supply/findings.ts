import { z } from "zod";

/** Severities in increasing order, as scanners name them. */
export const SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;

/** A scanner's severity rating. */
export type Severity = (typeof SEVERITIES)[number];

/** One vulnerability the scanner found in one package of an image. */
export interface Finding {
  /** The advisory's id as the scanner reports it (a CVE when the advisory has one). */
  readonly id: string;
  /** Other ids of the same advisory (e.g. its GHSA id). */
  readonly aliases: readonly string[];
  readonly package: string;
  readonly installed: string;
  /** The first version that fixes it, or null when there is none yet. */
  readonly fixed: string | null;
  readonly severity: Severity;
  /** Where in the image it was found (OS packages, a Python site-packages...). */
  readonly target: string;
  readonly title: string;
}

// Only the fields the gate reads; Trivy's report carries many more.
const trivyVuln = z.object({
  VulnerabilityID: z.string(),
  VendorIDs: z.array(z.string()).optional(),
  PkgName: z.string(),
  InstalledVersion: z.string(),
  FixedVersion: z.string().optional(),
  Severity: z.string(),
  Title: z.string().optional(),
});
const trivyReport = z.object({
  SchemaVersion: z.number(),
  ArtifactName: z.string().optional(),
  Results: z
    .array(z.object({ Target: z.string(), Vulnerabilities: z.array(trivyVuln).nullish() }))
    .optional(),
});

/**
 * The findings of a Trivy JSON report (`trivy image --format json`, schema 2). Throws when the
 * text is not such a report, so a scanner that printed something else never passes the gate.
 */
export function parseTrivyReport(json: string): Finding[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error(`the scanner's output is not JSON: ${json.slice(0, 200)}`);
  }
  const parsed = trivyReport.safeParse(doc);
  if (!parsed.success) throw new Error(`the scanner's output is not a Trivy JSON report: ${z.prettifyError(parsed.error)}`);
  if (parsed.data.SchemaVersion !== 2) throw new Error(`the scanner's report has schema ${parsed.data.SchemaVersion}; this gate reads schema 2`);
  return (parsed.data.Results ?? []).flatMap((r) =>
    (r.Vulnerabilities ?? []).map(
      (v): Finding => ({
        id: v.VulnerabilityID,
        aliases: (v.VendorIDs ?? []).filter((a) => a !== v.VulnerabilityID),
        package: v.PkgName,
        installed: v.InstalledVersion,
        // Trivy lists several fixed versions (one per release line) joined by ", ".
        fixed: v.FixedVersion?.trim() ? v.FixedVersion.trim() : null,
        severity: (SEVERITIES as readonly string[]).includes(v.Severity) ? (v.Severity as Severity) : "UNKNOWN",
        target: r.Target,
        title: v.Title ?? "",
      }),
    ),
  );
}
