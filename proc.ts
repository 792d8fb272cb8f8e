/**
 * The one way fleet runs another program: `run`/`must` to completion (synchronous, for commands and
 * tests that have nothing else to do meanwhile) and `exec` (asynchronous, for code that shares its
 * process: the dynamic providers' steps, which must never block the provider process every dynamic
 * resource of an update runs in). No shell, output captured, never a throw on a non-zero exit
 * except from `must`.
 */
import { spawnSync } from "child_process";

/** What a command did: its exit status (-1 when it could not start or was killed), its output, and how long it took. */
export interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** How to run a command. */
export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to its stdin (which is otherwise empty). */
  readonly input?: string;
  /** Killed after this many seconds (default 30 minutes; 0: no limit). */
  readonly timeoutSeconds?: number;
  /** `run` only: the terminal passes through (stdout and stderr are then empty, and `input` is ignored). */
  readonly inherit?: boolean;
}

const MAX_BUFFER = 512 * 1024 * 1024;

/** Runs `cmd args` to completion; never throws on a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Ran {
  const start = Date.now();
  const r = spawnSync(cmd, [...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    ...(opts.inherit ? { stdio: "inherit" as const } : { input: opts.input ?? "" }),
    encoding: "utf8",
    maxBuffer: MAX_BUFFER,
    timeout: (opts.timeoutSeconds ?? 1800) * 1000,
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? `${r.stderr ? "\n" : ""}${r.error.message}` : ""), seconds: (Date.now() - start) / 1000 };
}

/** Like run, but a non-zero exit throws, naming the command and quoting the end of what it printed. */
export function must(cmd: string, args: readonly string[], opts: RunOptions = {}): Ran {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(failure(cmd, args, r));
  return r;
}

/** The message for a command that failed: the command, its exit and the last lines it printed. */
export function failure(cmd: string, args: readonly string[], r: Pick<Ran, "status" | "stdout" | "stderr">, lines = 25): string {
  const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-lines).join("\n");
  return `\`${cmd} ${args.join(" ")}\` exited ${r.status}${tail ? `:\n${tail}` : ""}`;
}

/**
 * Runs `cmd args` to completion without blocking the process. Self-contained (it requires what it
 * uses when called): the dynamic providers' serialized code may capture it.
 */
export function exec(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<Ran> {
  const { execFile } = require("child_process") as typeof import("child_process");
  const start = Date.now();
  return new Promise((resolve) => {
    const child = execFile(cmd, [...args], { env: opts.env ?? process.env, cwd: opts.cwd, encoding: "utf8", maxBuffer: 512 * 1024 * 1024, timeout: (opts.timeoutSeconds ?? 1800) * 1000 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      const status = !err ? 0 : typeof code === "number" ? code : -1;
      resolve({ status, stdout, stderr: status === -1 ? `${stderr}${err!.message}` : stderr, seconds: (Date.now() - start) / 1000 });
    });
    // A command that exits without reading its input closes the pipe: EPIPE then belongs to the
    // command's own result above, never to the process that ran it.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(opts.input ?? "");
  });
}
