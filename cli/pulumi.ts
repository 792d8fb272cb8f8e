/**
 * The one environment every fleet command runs Pulumi with, the backend rule it follows, and the
 * one runner every `pulumi` spawn in cli/ (and through test/support/engine.ts, the tests' and the
 * bench's) goes through. scripts/env.sh applies the same rule to a shell
 * (test/unit/backend.test.ts checks that the two agree).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fleetCache } from "../cache";
import { Ran, run } from "../proc";
import { CliError } from "./args";

/** fleet's own file backend, used only with the compiled toolchain when nothing else is chosen. */
export function ownBackend(cache: string): string {
  return `file://${cache}/state`;
}

/** Whether the Pulumi CLI is one installed the usual way (`toolchain.mode` says "installed"). */
export function installedToolchain(cache: string): boolean {
  try {
    return fs.readFileSync(path.join(cache, "toolchain.mode"), "utf8").startsWith("installed");
  } catch {
    // no mode written yet: the compiled toolchain's defaults
    return false;
  }
}

/** The file `pulumi login URL` writes the backend to: `${PULUMI_HOME:-~/.pulumi}/credentials.json`. */
export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.PULUMI_HOME || path.join(env.HOME || os.homedir(), ".pulumi"), "credentials.json");
}

/** The backend a Pulumi command will use, and why. */
export interface Backend {
  /** `file://DIR`, `https://api.pulumi.com`, `s3://...` */
  readonly url: string;
  /** Where the choice came from, for messages. */
  readonly from: string;
}

/**
 * The backend rule: PULUMI_BACKEND_URL if set; else the backend the CLI is logged into (the
 * `current` of credentials.json, what `pulumi whoami -v` prints); else, with fleet's compiled
 * toolchain only, fleet's own file backend. With an installed CLI and no login: none (the CLI
 * then asks the user to log in, as it always does).
 */
export function resolveBackend(env: NodeJS.ProcessEnv = process.env): Backend | undefined {
  if (env.PULUMI_BACKEND_URL) return { url: env.PULUMI_BACKEND_URL, from: "PULUMI_BACKEND_URL" };
  const creds = credentialsFile(env);
  const current = loggedInto(creds);
  if (current) return { url: current, from: `pulumi login, ${creds}` };
  const cache = fleetCache(env);
  if (!installedToolchain(cache)) return { url: ownBackend(cache), from: "fleet's own file backend (compiled toolchain, no pulumi login)" };
  return undefined;
}

function loggedInto(file: string): string | undefined {
  try {
    const current = (JSON.parse(fs.readFileSync(file, "utf8")) as { current?: unknown }).current;
    return typeof current === "string" && current ? current : undefined;
  } catch {
    // no credentials file (never logged in), or one the CLI itself will complain about
    return undefined;
  }
}

/**
 * The environment `source scripts/env.sh` gives a shell, over the caller's (values the caller set
 * win): fleet's tools on PATH (first with the compiled toolchain, last with an installed CLI); with
 * the compiled toolchain, no plugin downloads or update checks, and when no backend is chosen
 * (PULUMI_BACKEND_URL, `pulumi login`), fleet's own file backend with an empty passphrase.
 */
export function fleetEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const cache = fleetCache(env);
  const bin = path.join(cache, "bin");
  if (installedToolchain(cache)) return { ...env, FLEET_CACHE: cache, PATH: `${env.PATH ?? ""}:${bin}` };
  const own = ownBackend(cache);
  const out: NodeJS.ProcessEnv = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    ...env,
    FLEET_CACHE: cache,
    PATH: `${bin}:${env.PATH ?? ""}`,
  };
  if (!env.PULUMI_BACKEND_URL && resolveBackend(env)?.url === own) out.PULUMI_BACKEND_URL = own;
  // Only fleet's own backend has the empty passphrase; another file backend keeps the user's.
  if (out.PULUMI_BACKEND_URL === own) out.PULUMI_CONFIG_PASSPHRASE = env.PULUMI_CONFIG_PASSPHRASE ?? "";
  return out;
}

/** What a pulumi command printed and how it exited. */
export interface PulumiResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one pulumi command to completion; the readers of cli/ take one, so tests can feed recorded output. */
export type PulumiRunner = (args: readonly string[], opts?: { readonly input?: string }) => PulumiResult;

/** `args` with `--non-interactive` (once): no fleet command, test or bench waits on a prompt. */
export function pulumiArgs(args: readonly string[]): string[] {
  return [...args, ...(args.includes("--non-interactive") ? [] : ["--non-interactive"])];
}

/**
 * Runs `pulumi ARGS --non-interactive` in `cwd` with `env` (default fleetEnv()), capturing its
 * output, or with `inherit` passing the terminal through (stdout and stderr are then empty).
 * No time limit unless `timeoutSeconds` is given. Never throws on a non-zero exit; a missing CLI
 * is a CliError.
 */
export function runPulumi(args: readonly string[], opts: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv; readonly input?: string; readonly inherit?: boolean; readonly timeoutSeconds?: number }): Ran {
  // 0 is no limit: an update that builds every image from nothing takes as long as it takes.
  const r = run("pulumi", pulumiArgs(args), { cwd: opts.cwd, env: opts.env ?? fleetEnv(), input: opts.input, inherit: opts.inherit, timeoutSeconds: opts.timeoutSeconds ?? 0 });
  // proc's run reports a command it could not start as status -1 with node's reason last on stderr
  // (a time limit reached is an exit like any other, its reason there too).
  const notStarted = r.status === -1 ? /spawnSync pulumi (?!ETIMEDOUT)E[A-Z]+$/.exec(r.stderr.trimEnd())?.[0] : undefined;
  if (notStarted) throw new CliError(`could not run pulumi (${notStarted}); run \`npm run toolchain\`, or install the Pulumi CLI`);
  return r;
}

/** A PulumiRunner for the project in `cwd`, with `env` (default fleetEnv()). */
export function pulumiRunner(cwd: string, env: NodeJS.ProcessEnv = fleetEnv()): PulumiRunner {
  return (args, opts) => runPulumi(args, { cwd, env, input: opts?.input });
}

/** Runs a `pulumi ... --json` command and parses what it printed; a failure is a CliError quoting pulumi's last line. */
export function pulumiJson<T>(run: PulumiRunner, args: readonly string[]): T {
  const r = run(args);
  const what = `pulumi ${args.join(" ")}`;
  if (r.status !== 0) throw new CliError(`${what} failed (exit ${r.status}): ${lastLine(r.stderr || r.stdout)}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch (e) {
    throw new CliError(`${what} printed no JSON (${(e as Error).message})`);
  }
}

/** The last non-empty line of a command's output: where pulumi puts its error. */
export function lastLine(text: string): string {
  return text.trim().split("\n").pop()?.trim() ?? "";
}
