import { FleetInputError, parseWith, problem } from "../errors";
import { STACK_KEYS, StackConfig, stackSchema } from "./schema";

/**
 * Turns `fleet:` config as the engine hands it over (every value a string; objects as JSON) into a
 * validated StackConfig. `file` names the stack file in errors. Keys are given without `fleet:`.
 * An empty value means "not set" (Pulumi.yaml gives optional and required keys an empty default).
 */
export function decodeStackConfig(raw: Readonly<Record<string, string>>, file: string): StackConfig {
  const problems: string[] = [];
  const typed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const kind = (STACK_KEYS as Record<string, string>)[key];
    if (kind === undefined) {
      problems.push(problem(file, `fleet:${key}`, `is not a fleet setting; known settings: ${Object.keys(STACK_KEYS).map((k) => `fleet:${k}`).join(", ")}`));
      continue;
    }
    if (value === "") continue;
    typed[key] = decodeValue(kind, value, (msg) => problems.push(problem(file, `fleet:${key}`, msg, key === "secrets" ? "[secret]" : value)));
  }
  if (problems.length) throw new FleetInputError(problems);
  // A secret's value is never quoted back in an error.
  return parseWith(stackSchema, typed, file, "fleet:", ["secrets"]);
}

function decodeValue(kind: string, value: string, fail: (msg: string) => void): unknown {
  switch (kind) {
    case "integer":
      return /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    case "boolean":
      return value === "true" ? true : value === "false" ? false : value;
    case "object":
      try {
        return JSON.parse(value);
      } catch {
        fail("must be a YAML mapping");
        return undefined;
      }
    default:
      return value;
  }
}
