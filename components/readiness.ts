/**
 * How the fleet knows a container is ready: its own health probe (the image's /health check)
 * answers, run in it with `docker exec` from its start, again 20 ms after a failed probe, the pause
 * doubling up to a second (a service that answers within a moment is seen at once, one that loads
 * a model for a minute is not probed every few milliseconds). Docker's health check keeps
 * watching afterwards, but it first probes one interval (5 s) after the start, and the engines the
 * fleet runs on may not have its `start_interval` (Docker API 1.44); waiting for it cost every
 * replaced container about 5 s. Used by the canary and by a container's start alike.
 */
import { exec } from "../proc";

/** What a docker command did, trimmed. */
export interface DockerResult {
  readonly ok: boolean;
  readonly out: string;
  readonly err: string;
}

/** The docker CLI against one engine, never blocking the process it runs in. */
export type Docker = (...args: string[]) => Promise<DockerResult>;

/** The docker CLI against the engine at `dockerHost`. */
export function dockerOn(dockerHost: string): Docker {
  return async (...args) => {
    const r = await exec("docker", args, { env: { ...process.env, DOCKER_HOST: dockerHost } });
    return { ok: r.status === 0, out: r.stdout.trim(), err: r.stderr.trim() };
  };
}

/** What became of the wait: healthy, or the container's state, its probe's last answer and its last output. */
export type Readiness = { readonly healthy: true } | { readonly healthy: false; readonly state: string; readonly probe: string; readonly logs: string };

/** The pause after the first failed probe; it doubles after each one, up to PROBE_MAX_MS. */
const PROBE_FIRST_MS = 20;
const PROBE_MAX_MS = 1000;
/** How long the wait goes without asking for the container's state while probes fail. */
const STATE_EVERY_MS = 1000;

/** What Docker answers an exec into a container that does not run (or no longer exists). */
const NOT_RUNNING = /is not running|is restarting|is paused|no such container/i;

/**
 * Waits up to `timeoutSeconds` for `probe` (a command, without Docker's "CMD") to succeed in
 * `container`. The container's state is asked for when a probe's answer says it does not run, and
 * at least every second besides: a container that exited ends the wait at once.
 */
export async function firstHealthy(docker: Docker, container: string, probe: readonly string[], timeoutSeconds: number): Promise<Readiness> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let checked = Date.now();
  for (let pause = PROBE_FIRST_MS; ; pause = Math.min(pause * 2, PROBE_MAX_MS)) {
    const answer = await docker("exec", container, ...probe);
    if (answer.ok) return { healthy: true };
    const late = Date.now() > deadline;
    if (late || NOT_RUNNING.test(answer.err) || Date.now() - checked >= STATE_EVERY_MS) {
      checked = Date.now();
      const state = (await docker("inspect", "-f", "{{.State.Status}}", container)).out || "gone";
      if (state !== "running" || late) {
        const logs = await docker("logs", "--tail", "20", container);
        return { healthy: false, state, probe: `${answer.out}\n${answer.err}`.trim(), logs: `${logs.out}\n${logs.err}`.trim() };
      }
    }
    await new Promise((r) => setTimeout(r, pause));
  }
}
