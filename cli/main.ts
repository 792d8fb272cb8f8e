/**
 * `npm run fleet -- <command> [options]`: the operations around `pulumi up`. Each command lives in
 * a file of its own in this folder (declared with cli/command.ts) and is thin over Pulumi's own
 * files, CLI or Automation API. This file only dispatches; importing it runs nothing.
 */
import { CliError } from "./args";
import type { Command } from "./command";

/** Every command by name, loaded only when it is run (or listed by `--help`). */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  base: async () => (await import("./base")).command,
  history: async () => (await import("./history")).command,
  recover: async () => (await import("./recover")).command,
  release: async () => (await import("./release")).command,
  review: async () => (await import("./review")).command,
  rollback: async () => (await import("./rollback")).command,
  sbom: async () => (await import("./sbom")).command,
};

/** The top-level usage: every command with its one-line summary. */
export async function usage(): Promise<string> {
  const names = Object.keys(COMMANDS).sort();
  const width = Math.max(...names.map((n) => n.length));
  const lines = await Promise.all(names.map(async (n) => `  ${n.padEnd(width)}  ${(await COMMANDS[n]()).summary}`));
  return ["usage: npm run fleet -- <command> [options]", "commands:", ...lines, "(run a command with --help for its options)"].join("\n");
}

/**
 * Runs the command line on `argv` (what follows `npm run fleet --`) and resolves with the exit
 * code. A CliError (the user's to fix) is printed as one line, `fleet: ...`, with exit code 2.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === "--help" || name === "-h") {
      console.log(await usage());
      return name ? 0 : 2;
    }
    const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!load) throw new CliError(`unknown command "${name}"; known commands: ${Object.keys(COMMANDS).sort().join(", ")}`);
    return await (await load()).run(rest);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    console.error(`fleet: ${err.message}`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
