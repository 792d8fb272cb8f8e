import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";

/**
 * The environment `source scripts/env.sh` gives a shell, over the caller's: the toolchain on PATH,
 * the file backend and no update checks. Values the caller set win.
 */
export function fleetEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const cache = env.FLEET_CACHE ?? path.join(os.homedir(), ".cache", "fleet");
  return {
    PULUMI_BACKEND_URL: `file://${cache}/state`,
    PULUMI_CONFIG_PASSPHRASE: "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    ...env,
    FLEET_CACHE: cache,
    PATH: `${path.join(cache, "bin")}:${env.PATH ?? ""}`,
  };
}

/**
 * Runs `pulumi up --yes -m MESSAGE --stack STACK [extra...]` in the project, its output going
 * straight to the user's terminal. Resolves with its exit code.
 */
export function pulumiUp(projectDir: string, stack: string, message: string, extra: readonly string[]): number {
  const r = spawnSync("pulumi", ["up", "--yes", "--non-interactive", "-m", message, "--stack", stack, ...extra], { cwd: projectDir, env: fleetEnv(), stdio: "inherit" });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

/** Splits argv at `--`: the command's own options, and what is passed on to `pulumi up`. */
export function splitPassThrough(argv: readonly string[]): { own: string[]; passed: string[] } {
  const i = argv.indexOf("--");
  return i < 0 ? { own: [...argv], passed: [] } : { own: argv.slice(0, i), passed: argv.slice(i + 1) };
}
