/** A mistake in how a command was called, or in what it was asked to do: printed as one line. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** Parsed command-line options: `--name value` (repeatable) and `--flag`. */
export interface Parsed {
  /** Values of each option that takes one, in the order given. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** Flags that were given. */
  readonly flags: ReadonlySet<string>;
}

/**
 * Parses `argv` against the options a command knows: `valued` take a value, `flags` do not.
 * Anything else is a CliError naming the option and what is allowed.
 */
export function parseArgs(command: string, argv: readonly string[], spec: { valued: readonly string[]; flags: readonly string[] }): Parsed {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const allowed = [...spec.valued.map((v) => `--${v} VALUE`), ...spec.flags.map((f) => `--${f}`)].join(", ");
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [key, inline] = arg.startsWith("--") ? arg.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
    if (key !== undefined && spec.valued.includes(key)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith("--")) throw new CliError(`${command}: --${key} needs a value`);
      values.set(key, [...(values.get(key) ?? []), value]);
    } else if (key !== undefined && spec.flags.includes(key) && inline === undefined) {
      flags.add(key);
    } else {
      throw new CliError(`${command}: unknown option ${JSON.stringify(arg)}; allowed: ${allowed || "none"}`);
    }
  }
  return { values, flags };
}

/** The one value of a required option, or a CliError naming it. */
export function required(command: string, parsed: Parsed, name: string, what: string): string {
  const v = parsed.values.get(name);
  if (!v?.length) throw new CliError(`${command}: --${name} is required (${what})`);
  if (v.length > 1) throw new CliError(`${command}: --${name} was given ${v.length} times; give it once`);
  return v[0];
}
