import * as fs from "fs";
import * as path from "path";
import { FLEET_CACHE, must, run } from "../test/support/engine";
import { REPO } from "../test/support/project";

/**
 * The bench's own BuildKit daemon, beside the shared one `npm run infra` starts: the bench empties
 * its cache for every cold run, which it must never do to what other people's tests are using.
 * It is scripts/engine.sh's (data under $FLEET_CACHE/instances/buildkit-NAME), as its Docker
 * engine is (through testStack).
 */
export interface Instance {
  /** `unix://...` address of its socket. */
  readonly address: string;
  /** Stops it (SIGTERM, then SIGKILL after 60 s). */
  stop(): void;
}

/**
 * A BuildKit daemon of the bench's own, registered as the buildx builder `name`, with the shared
 * one's settings (scripts/lib/daemon.sh). `empty` starts it on an empty cache: the state of a
 * machine that never built anything.
 */
export async function buildkit(name: string, opts: { empty: boolean }): Promise<Instance> {
  const engine = (action: string) => must("bash", ["scripts/engine.sh", action, "buildkit", name], { cwd: REPO, timeoutSeconds: 120 });
  if (opts.empty) {
    engine("down");
    fs.rmSync(path.join(FLEET_CACHE, "instances", `buildkit-${name}`, "root"), { recursive: true, force: true });
  }
  const address = engine("up").stdout.trim();
  return { address, stop: () => void run("bash", ["scripts/engine.sh", "down", "buildkit", name], { cwd: REPO, timeoutSeconds: 120 }) };
}
