import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * The environment `source scripts/env.sh` gives a shell, over the caller's (values the caller set
 * win): with the compiled toolchain, the toolchain first on PATH, the file backend and no plugin
 * downloads or update checks; with a Pulumi CLI installed the usual way (toolchain.mode says
 * "installed"), the backend and plugins are the user's and only fleet's tools are added to PATH.
 */
export function fleetEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const cache = env.FLEET_CACHE ?? path.join(os.homedir(), ".cache", "fleet");
  const bin = path.join(cache, "bin");
  let mode = "";
  try {
    mode = fs.readFileSync(path.join(cache, "toolchain.mode"), "utf8");
  } catch {
    // no mode written yet: the compiled toolchain's defaults
  }
  if (mode.startsWith("installed")) return { ...env, FLEET_CACHE: cache, PATH: `${env.PATH ?? ""}:${bin}` };
  return {
    PULUMI_BACKEND_URL: `file://${cache}/state`,
    PULUMI_CONFIG_PASSPHRASE: "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    ...env,
    FLEET_CACHE: cache,
    PATH: `${bin}:${env.PATH ?? ""}`,
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
