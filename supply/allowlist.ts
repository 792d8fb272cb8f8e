import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { z } from "zod";
import { FleetInputError, parseWith, problem } from "../errors";

/** The allowlist's place in the project. */
export const ALLOWLIST_FILE = "security/allowlist.yaml";

/** A finding let through the gate, for a reason, until a date. */
export interface AllowEntry {
  /** The advisory id (CVE or GHSA), as the scanner reports it or as one of its aliases. */
  readonly id: string;
  /** Only this package; any package when absent. */
  readonly package?: string;
  /** Why the finding is accepted, for the next reader. */
  readonly reason: string;
  /** Last day (UTC) the entry holds, YYYY-MM-DD. */
  readonly expires: string;
}

const date = z
  .string({ error: "must be a date YYYY-MM-DD (quote it in YAML)" })
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: "must be a date YYYY-MM-DD" })
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), { error: "must be a real calendar date YYYY-MM-DD" });

const entrySchema = z.strictObject(
  {
    id: z.string({ error: "must be an advisory id like CVE-2024-1135 or GHSA-w3h3-4rj7-4ph4" }).regex(/^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|[A-Z][A-Z0-9]*-[A-Za-z0-9:._-]+)$/, {
      error: "must be an advisory id like CVE-2024-1135 or GHSA-w3h3-4rj7-4ph4",
    }),
    package: z.string({ error: "must be a package name" }).min(1, { error: "must be a package name" }).optional(),
    reason: z.string({ error: "must say why the finding is accepted" }).trim().min(10, { error: "must say why the finding is accepted (10 characters at least)" }),
    expires: date,
  },
  { error: "must be a mapping with id, reason, expires and optionally package" },
);

const fileSchema = z.strictObject(
  { entries: z.array(entrySchema, { error: "must be a list of entries (use [] for none)" }) },
  { error: "must be a mapping with one key, entries" },
);

/**
 * Reads and checks the allowlist: a malformed entry, or one whose expiry date has passed (`today`,
 * UTC), is a FleetInputError naming the file, the entry and the value. A missing file is an empty list.
 */
export function loadAllowlist(projectDir: string, today: Date = new Date(), file: string = ALLOWLIST_FILE): AllowEntry[] {
  const full = path.join(projectDir, file);
  if (!fs.existsSync(full)) return [];
  return parseAllowlist(fs.readFileSync(full, "utf8"), file, today);
}

/** parseAllowlist's work on the file's text; `file` names it in errors. */
export function parseAllowlist(text: string, file: string, today: Date): AllowEntry[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text, { schema: "core" });
  } catch (e) {
    throw new FleetInputError([problem(file, "", `is not valid YAML: ${(e as Error).message.split("\n")[0]}`)]);
  }
  const { entries } = parseWith(fileSchema, doc ?? { entries: [] }, file);
  const day = today.toISOString().slice(0, 10);
  const problems = entries.flatMap((e, i) =>
    e.expires < day
      ? [problem(file, `entries[${i}] (${e.id}${e.package ? ` in ${e.package}` : ""})`, `expired on ${e.expires}; fix the finding, or renew the entry with a new date and reason`, e.expires)]
      : [],
  );
  if (problems.length) throw new FleetInputError(problems);
  return entries;
}
