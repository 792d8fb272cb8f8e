import { z } from "zod";

/**
 * A problem with the fleet's input (stack file, profile, catalog). Its message names the file, the
 * key, the value received and what is allowed, and is meant to be printed as is: no stack trace.
 */
export class FleetInputError extends Error {
  constructor(
    /** Every problem found, one line each. */
    public readonly problems: readonly string[],
  ) {
    super(problems.join("\n"));
    this.name = "FleetInputError";
  }
}

/** One problem line: `file: key: what is wrong; got <value>`. */
export function problem(file: string, key: string, rule: string, got?: unknown): string {
  const where = key ? `${file}: ${key}` : file;
  return got === undefined ? `${where}: ${rule}` : `${where}: ${rule}; got ${show(got)}`;
}

/** Shows a received value compactly and unambiguously (strings quoted). */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Dotted path of a zod issue, e.g. `env.OMP_NUM_THREADS` or `services[2].ports`. */
function issuePath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) {
    out += typeof part === "number" ? `[${part}]` : out && !out.endsWith(":") ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Reads the value at a zod issue's path out of the input, to quote it back to the user. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

/**
 * Parses `input` with `schema`; on failure throws a FleetInputError with one line per issue, each
 * naming the file, the key, the rule and the value received. Values under a top-level key listed
 * in `masked` are shown as [secret], never quoted.
 */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown, file: string, keyPrefix = "", masked: readonly string[] = []): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new FleetInputError(
    result.error.issues.map((issue) => {
      const key = issuePath(keyPrefix, issue.path);
      if (issue.code === "unrecognized_keys") {
        return problem(file, key, `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; remove or correct ${issue.keys.length > 1 ? "them" : "it"}`);
      }
      const got = masked.includes(String(issue.path[0])) && valueAt(input, issue.path) !== undefined ? "[secret]" : valueAt(input, issue.path);
      if (got === undefined) return problem(file, key, `is required: ${issue.message}`);
      return problem(file, key, issue.message, got);
    }),
  );
}

/** The message render and the engine both print for an invalid stack. */
export function invalidStackMessage(stack: string, error: FleetInputError): string {
  return `fleet: stack ${stack} is not valid:\n${error.problems.map((p) => `  ${p}`).join("\n")}`;
}
