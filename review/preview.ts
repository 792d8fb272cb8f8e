/**
 * The shapes `pulumi preview --json` prints (pulumi pkg/display/json.go, PreviewDigest) and the
 * policy events of an `--event-log` file (sdk apitype/events.go), as far as the review reads them.
 */

/** The value the engine prints for a property that is not known until the update runs. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A resource's state as the digest prints it. */
export interface PreviewState {
  readonly urn: string;
  readonly type: string;
  readonly parent?: string;
  readonly inputs?: Record<string, any>;
  readonly outputs?: Record<string, any>;
}

/** One step of a preview. */
export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly oldState?: PreviewState;
  readonly newState?: PreviewState;
  readonly diffReasons?: readonly string[];
  readonly replaceReasons?: readonly string[];
  readonly detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }> | null;
}

/** The document `pulumi preview --json` prints. */
export interface PreviewDigest {
  readonly config?: Record<string, string>;
  readonly steps?: readonly PreviewStep[];
  readonly diagnostics?: readonly { urn?: string; message?: string; severity?: string }[];
  readonly changeSummary?: Record<string, number>;
}

/** A policy violation from the event log. */
export interface PolicyViolation {
  readonly policy: string;
  readonly pack: string;
  /** "mandatory" or "advisory" (the engine says "warning" for advisory in some versions). */
  readonly level: string;
  readonly urn?: string;
  readonly message: string;
}

/** What the policy pack concluded. */
export interface PolicyResults {
  /** Policy names that passed on every resource they checked. */
  readonly passed: readonly string[];
  /** Policy names that reported a violation. */
  readonly failed: readonly string[];
  readonly violations: readonly PolicyViolation[];
}

/** Parses `pulumi preview --json` output; a CLI that printed nothing parseable yields an Error naming the first line. */
export function parseDigest(text: string): PreviewDigest {
  const start = text.indexOf("{");
  if (start < 0) throw new Error(`pulumi preview --json printed no JSON document; it printed: ${text.trim().split("\n")[0] ?? ""}`);
  return JSON.parse(text.slice(start)) as PreviewDigest;
}

/** The JSON objects of an engine event stream (one a line), skipping lines that are not one. */
export function jsonLines(text: string): any[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}

/** The policy results of an engine event log (one JSON event a line), or undefined when no pack ran. */
export function policyResults(eventLog: string): PolicyResults | undefined {
  const events = jsonLines(eventLog);
  const passed = new Set<string>();
  const failed = new Set<string>();
  const violations: PolicyViolation[] = [];
  let ran = false;
  for (const e of events) {
    const summary = e.policyAnalyzeSummaryEvent ?? e.policyAnalyzeStackSummaryEvent;
    if (summary) {
      ran = true;
      (summary.passed ?? []).forEach((p: string) => passed.add(p));
      (summary.failed ?? []).forEach((p: string) => failed.add(p));
    }
    if (e.policyEvent) {
      ran = true;
      const p = e.policyEvent;
      failed.add(p.policyName);
      // The engine sends "<policy description>\n<violation>": keep the violation.
      const lines = String(p.message ?? "").trim().split("\n");
      const message = (lines.length > 1 ? lines.slice(1) : lines).join(" ").trim();
      violations.push({ policy: p.policyName, pack: p.policyPackName, level: p.enforcementLevel, urn: p.resourceUrn || undefined, message });
    }
    if (e.policyLoadEvent) ran = true;
  }
  if (!ran) return undefined;
  for (const f of failed) passed.delete(f);
  return { passed: [...passed].sort(), failed: [...failed].sort(), violations };
}
