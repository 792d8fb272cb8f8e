/**
 * How the fleet knows a container is ready: its own health probe (the image's /health check)
 * answers, run in it with `docker exec` every 100 ms from its start. Docker's health check keeps
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

/** The pause between two probes. */
const PROBE_EVERY_MS = 100;

/** Waits up to `timeoutSeconds` for `probe` (a command, without Docker's "CMD") to succeed in `container`. */
export async function firstHealthy(docker: Docker, container: string, probe: readonly string[], timeoutSeconds: number): Promise<Readiness> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const answer = await docker("exec", container, ...probe);
    if (answer.ok) return { healthy: true };
    const state = (await docker("inspect", "-f", "{{.State.Status}}", container)).out || "gone";
    if (state !== "running" || Date.now() > deadline) {
      const logs = await docker("logs", "--tail", "20", container);
      return { healthy: false, state, probe: `${answer.out}\n${answer.err}`.trim(), logs: `${logs.out}\n${logs.err}`.trim() };
    }
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
  }
}
