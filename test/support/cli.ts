import { main } from "../../cli/main";

/** What `fleet ARGV` prints on stdout and stderr (console.log, console.error), and its exit code, run in-process. */
export async function fleet(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...args: unknown[]) => void out.push(args.join(" "));
  console.error = (...args: unknown[]) => void err.push(args.join(" "));
  try {
    return { code: await main(argv), out: out.join("\n"), err: err.join("\n") };
  } finally {
    Object.assign(console, { log, error });
  }
}

/**
 * The command and arguments of `npm run fleet -- ARGV`, as a user runs the command line (the
 * README's form), for proc.ts's run and must in a checkout: `run(...fleetCommand("history"), { cwd })`.
 * --silent: npm adds no lines of its own, and exits with the command's code.
 */
export function fleetCommand(...argv: string[]): [string, string[]] {
  return ["npm", ["run", "--silent", "fleet", "--", ...argv]];
}
