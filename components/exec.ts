/**
 * Commands the dynamic providers run (canary, vulnerability gate, SBOM, report, PIDs limit, :prev
 * tag). They all run in one provider process, so a command must not block it: a synchronous spawn
 * would make every other resource of the update wait for it. Serialized into the state with the providers
 * that call them, so they require what they use and capture nothing else.
 */

/** What a command did: its exit status (-1 when it could not start), stdout and stderr. */
export interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd args` to completion without blocking the process, `input` on its stdin. */
export function exec(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<Ran> {
  const { execFile } = require("child_process") as typeof import("child_process");
  return new Promise((resolve) => {
    const child = execFile(cmd, [...args], { env: opts.env ?? process.env, cwd: opts.cwd, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      const status = !err ? 0 : typeof code === "number" ? code : -1;
      resolve({ status, stdout, stderr: status === -1 ? `${stderr}${err!.message}` : stderr });
    });
    // A command that exits without reading its input closes the pipe: EPIPE then belongs to the
    // command's own result above, never to the provider process all dynamic resources share.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(opts.input ?? "");
  });
}

/**
 * One step of the project's own code (`ts-node supply/run.ts sbom|scan|report`, `ts-node
 * registry/run.ts tag`), the request as JSON on its stdin; resolves with its last stdout line
 * parsed, or rejects with what it printed.
 */
export async function projectStep(projectDir: string, script: "supply/run.ts" | "registry/run.ts", step: string, request: unknown): Promise<Record<string, unknown>> {
  const path = require("path") as typeof import("path");
  const r = await exec(path.join(projectDir, "node_modules", ".bin", "ts-node"), ["--transpile-only", path.join(projectDir, script), step], { cwd: projectDir, input: JSON.stringify(request) });
  if (r.status !== 0) throw new Error((r.stderr.trim() || `${step} exited ${r.status}`).trim());
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** One supply-chain step of the project (`ts-node supply/run.ts sbom|scan|report`); see projectStep. */
export function supplyStep(projectDir: string, step: "sbom" | "scan" | "report", request: unknown): Promise<Record<string, unknown>> {
  return projectStep(projectDir, "supply/run.ts", step, request);
}
