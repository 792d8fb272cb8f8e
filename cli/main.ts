/**
 * `npm run fleet -- <command> [options]`: the operations around `pulumi up`. Each command lives in
 * a file of its own in this folder and is thin over Pulumi's own files, CLI or Automation API.
 */
import { CliError } from "./args";

/** A command of the fleet command line. */
export interface Command {
  /** One line for the usage text. */
  readonly summary: string;
  /** Runs the command with the arguments after its name; resolves with the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** Every command, loaded only when it is run. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  base: async () => (await import("./base")).command,
  history: async () => (await import("./history")).command,
  recover: async () => (await import("./recover")).command,
  release: async () => (await import("./release")).command,
  review: async () => (await import("./review")).command,
  rollback: async () => (await import("./rollback")).command,
  sbom: async () => (await import("./sbom")).command,
};

function usage(): string {
  return `usage: npm run fleet -- <command> [options]\ncommands: ${Object.keys(COMMANDS).sort().join(", ")}\n(run a command with --help for its options)`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) throw new CliError(`unknown command "${name}"; known commands: ${Object.keys(COMMANDS).sort().join(", ")}`);
  return (await load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A CliError is the user's to fix: one line, no stack trace.
    if (err instanceof CliError) {
      console.error(`fleet: ${err.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
