import { runPulumi } from "./pulumi";

/**
 * Runs `pulumi up --yes -m MESSAGE --stack STACK [extra...]` in the project, its output going
 * straight to the user's terminal, with `env` (default fleetEnv()). Resolves with its exit code.
 */
export function pulumiUp(projectDir: string, stack: string, message: string, extra: readonly string[], env?: NodeJS.ProcessEnv): number {
  return runPulumi(["up", "--yes", "-m", message, "--stack", stack, ...extra], { cwd: projectDir, inherit: true, env }).status;
}

/** Splits argv at `--`: the command's own options, and what is passed on to `pulumi up`. */
export function splitPassThrough(argv: readonly string[]): { own: string[]; passed: string[] } {
  const i = argv.indexOf("--");
  return i < 0 ? { own: [...argv], passed: [] } : { own: argv.slice(0, i), passed: argv.slice(i + 1) };
}
