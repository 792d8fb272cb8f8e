import { AllowEntry } from "./allowlist";
import { Finding, Severity, SEVERITIES } from "./findings";

/** What the stack asks of the gate. */
export interface GateSettings {
  /** The lowest severity that stops a digest. */
  readonly severity: Severity;
  /** Stop on findings that have no fixed version yet, too. */
  readonly failOnUnfixed: boolean;
}

/** The gate's decision on one image. */
export interface Verdict {
  readonly pass: boolean;
  /** Findings that stop the image. */
  readonly blocking: readonly Finding[];
  /** Findings that would stop it but an allowlist entry lets through. */
  readonly allowed: readonly { readonly finding: Finding; readonly entry: AllowEntry }[];
  /** One line per blocking finding: id, package, installed and fixed version, image. */
  readonly lines: readonly string[];
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** Whether an allowlist entry covers a finding: same advisory (by id or alias) and, if named, package. */
export function covers(entry: AllowEntry, f: Finding): boolean {
  const ids = [f.id, ...f.aliases].map((i) => i.toUpperCase());
  return ids.includes(entry.id.toUpperCase()) && (entry.package === undefined || entry.package.toLowerCase() === f.package.toLowerCase());
}

/**
 * The gate: an image passes unless a finding at or above the severity threshold, with a fixed
 * version (or any, with failOnUnfixed), is not covered by the allowlist. The same advisory in the
 * same package and version is counted once, however many places the scanner found it.
 */
export function decide(service: string, image: string, findings: readonly Finding[], allowlist: readonly AllowEntry[], settings: GateSettings): Verdict {
  const seen = new Set<string>();
  const relevant = findings.filter((f) => {
    const key = `${f.id}\0${f.package}\0${f.installed}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return rank(f.severity) >= rank(settings.severity) && (f.fixed !== null || settings.failOnUnfixed);
  });
  const blocking: Finding[] = [];
  const allowed: { finding: Finding; entry: AllowEntry }[] = [];
  for (const f of relevant) {
    const entry = allowlist.find((e) => covers(e, f));
    if (entry) allowed.push({ finding: f, entry });
    else blocking.push(f);
  }
  const lines = blocking.map(
    (f) => `${service}: ${f.id} (${f.severity}${f.aliases.length ? `, ${f.aliases.join(", ")}` : ""}) in ${f.package} ${f.installed}, ${f.fixed ? `fixed in ${f.fixed}` : "no fixed version yet"}, image ${image}`,
  );
  return { pass: blocking.length === 0, blocking, allowed, lines };
}
