import { parseArgs, ParseArgsConfig } from "util";

/** A mistake in how a command was called, or in what it was asked to do: printed as one line. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** One option of a command, declared once: the parser and the `--help` text both read it. */
export interface OptionSpec {
  /** The placeholder of its value in the usage, like `S` or `FILE`. Defaults to none: a flag. */
  readonly value?: string;
  /** Whether it may be given more than once, each value kept in order. Defaults to false. */
  readonly repeatable?: boolean;
  /** Whether the command stops without it (only for an option that takes a value). Defaults to false. */
  readonly required?: boolean;
  /** One line for `--help`; for a required option, also what the "is required" error says it is. */
  readonly description: string;
}

/** A command's options by name (`stack` for `--stack`), in the order `--help` lists them. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** `--stack S`, which every command that works on a stack takes; `description` says which stack. */
export function stackOption<const D extends string>(description: D) {
  return { value: "S", required: true, description } as const;
}

/** `--service NAME`, repeatable, for commands that may work on some services only; `description` says what leaving it out means. */
export function servicesOption<const D extends string>(description: D) {
  return { value: "NAME", repeatable: true, description } as const;
}

/** What parsing gives for each declared option: a flag's presence, a value, or every value of a repeatable one. */
export type OptionValues<T extends OptionSpecs> = {
  readonly [K in keyof T]: T[K] extends { readonly value: string }
    ? T[K] extends { readonly repeatable: true }
      ? readonly string[]
      : T[K] extends { readonly required: true }
        ? string
        : string | undefined
    : boolean;
};

/** The options a command allows, as its errors list them: `--stack VALUE, --service VALUE (repeatable), --yes`. */
export function allowedOptions(options: OptionSpecs): string {
  const list = Object.entries(options).map(([name, o]) => `--${name}${o.value ? " VALUE" : ""}${o.repeatable ? " (repeatable)" : ""}`);
  return list.join(", ") || "none";
}

/**
 * Parses `argv` (a command's own arguments, without any `--` pass-through) against its declared
 * options with node's `util.parseArgs` in strict mode. Every mistake (an unknown option, a missing
 * value, a flag given a value, a stray argument, a required option left out, a single option given
 * twice) is a one-line CliError naming the command, the option and what is allowed.
 */
export function parseOptions<T extends OptionSpecs>(command: string, options: T, argv: readonly string[]): OptionValues<T> {
  const config: NonNullable<ParseArgsConfig["options"]> = { help: { type: "boolean", short: "h" } };
  // Every valued option is parsed as `multiple`, so a single one given twice is caught below
  // instead of the last value silently winning.
  for (const [name, o] of Object.entries(options)) config[name] = o.value ? { type: "string", multiple: true } : { type: "boolean" };
  let parsed: { values: Record<string, unknown>; tokens?: { kind: string }[] };
  try {
    parsed = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: false, tokens: true });
  } catch (e) {
    throw new CliError(`${command}: ${whatIsWrong(options, argv, e as Error & { code?: string })}`);
  }
  // A lone `--` is accepted by util.parseArgs; here it would be silently dropped, so say so.
  if (parsed.tokens?.some((t) => t.kind === "option-terminator")) throw new CliError(`${command}: unexpected argument "--" (${command} passes nothing on); allowed: ${allowedOptions(options)}`);

  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(options)) {
    const given = parsed.values[name];
    if (!o.value) {
      values[name] = given === true;
      continue;
    }
    const list = (given as string[] | undefined) ?? [];
    if (o.required && !list.length) throw new CliError(`${command}: --${name} is required (${o.description})`);
    if (!o.repeatable && list.length > 1) throw new CliError(`${command}: --${name} was given ${list.length} times; give it once`);
    values[name] = o.repeatable ? list : list[0];
  }
  return values as OptionValues<T>;
}

/**
 * The one line for a util.parseArgs error. Its messages are node's wording, so the offending
 * argument is found again in the tokens of a lenient parse and described in this CLI's wording;
 * node's message is the fallback.
 */
function whatIsWrong(options: OptionSpecs, argv: readonly string[], err: Error & { code?: string }): string {
  const allowed = `allowed: ${allowedOptions(options)}`;
  const known = (name: string) => name === "help" || Object.hasOwn(options, name);
  const { tokens } = parseArgs({ args: [...argv], options: { help: { type: "boolean", short: "h" }, ...Object.fromEntries(Object.entries(options).map(([n, o]) => [n, { type: o.value ? "string" : "boolean" } as const])) }, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind === "positional") return `unexpected argument ${JSON.stringify(t.value)}; ${allowed}`;
    if (t.kind !== "option") continue;
    if (!known(t.name)) return `unknown option ${JSON.stringify(t.rawName)}; ${allowed}`;
    const valued = Boolean(options[t.name]?.value);
    if (valued && (t.value === undefined || (!t.inlineValue && t.value.startsWith("-")))) return `${t.rawName} needs a value`;
    if (!valued && t.value !== undefined) return `${t.rawName} takes no value; got ${JSON.stringify(`${t.rawName}=${t.value}`)}`;
  }
  return `${err.message.split("\n")[0]}; ${allowed}`;
}
