import * as os from "os";
import * as path from "path";

/**
 * Where fleet keeps what it compiles, installs and records on this machine (the toolchain, BuildKit,
 * the supply tools and their record, its own state): FLEET_CACHE, default `~/.cache/fleet`, the same
 * rule as scripts/env.sh.
 */
export function fleetCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLEET_CACHE || path.join(env.HOME || os.homedir(), ".cache", "fleet");
}
