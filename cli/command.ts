import { OptionSpecs, OptionValues, parseOptions } from "./args";
import { splitPassThrough } from "./pulumiUp";

/** A command of the fleet command line, as cli/main.ts dispatches to it. */
export interface Command {
  /** The word after `npm run fleet --`. */
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** Its options, as declared. */
  readonly options: OptionSpecs;
  /** The text `--help` prints: usage line, summary, details, then a line per option. */
  usage(): string;
  /** Runs the command with the arguments after its name; resolves with the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** What a command file declares; `defineCommand` turns it into a Command. */
export interface CommandSpec<T extends OptionSpecs> {
  /** The word after `npm run fleet --`. */
  readonly name: string;
  /** One line for the list of commands and the top of `--help`. */
  readonly summary: string;
  /** Its options, declared once for both the parser and `--help`. */
  readonly options: T;
  /** What the arguments after `--` are for, like "passed on to pulumi up". Defaults to none: `--` is refused. */
  readonly passThrough?: string;
  /** More lines for `--help`, after the summary (what it reads, exit status). Defaults to none. */
  readonly details?: string;
  /** The work, with the parsed options and the arguments after `--`. */
  run(options: OptionValues<T>, passed: readonly string[]): Promise<number>;
}

/**
 * A Command from its declaration: `--help` or `-h` (before any `--`) prints the usage on stdout
 * and exits 0; otherwise the options are parsed (a mistake is a one-line CliError) and `run` gets
 * them, with what follows `--` when the command passes arguments on.
 */
export function defineCommand<const T extends OptionSpecs>(spec: CommandSpec<T>): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    options: spec.options,
    usage: () => usageOf(spec),
    async run(argv) {
      const { own, passed } = spec.passThrough ? splitPassThrough(argv) : { own: [...argv], passed: [] };
      if (own.includes("--help") || own.includes("-h")) {
        console.log(usageOf(spec));
        return 0;
      }
      return spec.run(parseOptions(spec.name, spec.options, own), passed);
    },
  };
}

/** The `--help` text of a command, all from its declaration. */
function usageOf(spec: CommandSpec<OptionSpecs>): string {
  const entries = Object.entries(spec.options);
  const synopsis = entries.map(([name, o]) => {
    const word = `--${name}${o.value ? ` ${o.value}` : ""}${o.repeatable ? " ..." : ""}`;
    return o.required ? word : `[${word}]`;
  });
  if (spec.passThrough) synopsis.push("[-- ARGS...]");
  const rows: [string, string][] = entries.map(([name, o]) => [
    `--${name}${o.value ? ` ${o.value}` : ""}`,
    `${o.description}${o.required ? " (required)" : ""}${o.repeatable ? " (repeatable)" : ""}`,
  ]);
  if (spec.passThrough) rows.push(["-- ARGS", spec.passThrough]);
  rows.push(["-h, --help", "print this usage"]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `usage: npm run fleet -- ${spec.name} ${synopsis.join(" ")}`,
    spec.summary,
    ...(spec.details ? [spec.details] : []),
    "options:",
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
  ].join("\n");
}
