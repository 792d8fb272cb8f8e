import * as fs from "fs";
import * as path from "path";
import { exec, failure, RunOptions } from "../../proc";
import { pipCaFile } from "../../stack";
import { pipCaContext } from "../../source/stage";
import { FLEET_CACHE, get } from "./engine";
import { tempDir } from "./project";

/**
 * Small functions for tests and benches that drive the real engine: run a command that must
 * succeed (on proc.ts exec, which the callers use for any other), build and push an image through
 * the BuildKit daemon that `npm run infra` starts, and poll an HTTP endpoint.
 */

const firstExisting = (...candidates: string[]) => candidates.find((c) => fs.existsSync(c)) ?? candidates[candidates.length - 1];

/** The docker client that matches the engine (Debian's 20.10 client; a newer one may not speak its API). */
export const DOCKER = process.env.FLEET_DOCKER ?? firstExisting(path.join(FLEET_CACHE, "bin", "docker"), "/usr/bin/docker", "docker");
/** buildctl, compiled by `npm run infra`. */
export const BUILDCTL = process.env.FLEET_BUILDCTL ?? firstExisting(path.join(FLEET_CACHE, "bin", "buildctl"), "buildctl");
/** The BuildKit daemon the Pulumi program's builder also uses. */
export const BUILDKIT_ADDR = process.env.BUILDKIT_HOST ?? "unix:///run/buildkit/buildkitd.sock";
/** The local registry (plain HTTP). */
export const REGISTRY = process.env.FLEET_REGISTRY ?? "127.0.0.1:5000";

/**
 * Runs `cmd args` (proc.ts exec; killed after 10 minutes unless `timeoutSeconds` says otherwise)
 * and returns its trimmed stdout; a non-zero exit throws with the command and its last output.
 */
export async function mustRun(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await exec(cmd, args, { timeoutSeconds: 600, ...opts });
  if (r.status !== 0) throw new Error(failure(path.basename(cmd), args, r));
  return r.stdout.trim();
}

/** `docker args...` with the engine's own client. */
export const docker = (...args: string[]) => mustRun(DOCKER, args);

/** An image build through BuildKit, pushed to the registry. */
export interface BuildRequest {
  /** Build context directory. */
  readonly context: string;
  /** The Dockerfile (may lie outside the context, as service.Dockerfile does). */
  readonly dockerfile: string;
  /** `repo:tag` to push. */
  readonly name: string;
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** Build without the layer cache (BuildKit's cache mounts, e.g. pip's wheel cache, stay). */
  readonly noCache?: boolean;
  /**
   * Reproducible build: SOURCE_DATE_EPOCH as a build arg and BuildKit's rewrite-timestamp export,
   * so that every file time (and the image's creation time) is this epoch and the same inputs
   * give the same digest. Unset: timestamps are those of the build.
   */
  readonly sourceDateEpoch?: number;
  /** The BuildKit daemon to build on. Defaults to the shared one (BUILDKIT_ADDR). */
  readonly addr?: string;
  /** The exporter, as BuildKit attributes. Defaults to a push of `name` (rewriting timestamps when sourceDateEpoch is set). */
  readonly output?: string;
}

/** A pushed image. */
export interface BuiltImage {
  /** `repo@sha256:...`: what children build FROM and containers run. */
  readonly ref: string;
  readonly digest: string;
  readonly seconds: number;
}

/** Builds `req` with buildctl, pushes it, and returns its `repo@sha256:` reference. */
export async function buildAndPush(req: BuildRequest): Promise<BuiltImage> {
  const meta = path.join(tempDir("fleet-build-"), "metadata.json");
  const args = [
    "--addr", req.addr ?? BUILDKIT_ADDR, "build", "--progress=plain",
    "--frontend", "dockerfile.v0",
    "--local", `context=${req.context}`,
    "--local", `dockerfile=${path.dirname(req.dockerfile)}`,
    "--opt", `filename=${path.basename(req.dockerfile)}`,
    "--opt", "platform=linux/amd64",
    "--output", req.output ?? `type=image,name=${req.name},push=true,registry.insecure=true${req.sourceDateEpoch === undefined ? "" : ",rewrite-timestamp=true"}`,
    "--metadata-file", meta,
  ];
  if (req.sourceDateEpoch !== undefined) args.push("--opt", `build-arg:SOURCE_DATE_EPOCH=${req.sourceDateEpoch}`);
  for (const [k, v] of Object.entries(req.buildArgs ?? {})) args.push("--opt", `build-arg:${k}=${v}`);
  for (const [k, v] of Object.entries(req.labels ?? {})) args.push("--opt", `label:${k}=${v}`);
  args.push("--local", `pip-ca=${pipCaContext(pipCaFile())}`, "--opt", "context:pip-ca=local:pip-ca");
  if (req.noCache) args.push("--no-cache");
  const started = Date.now();
  try {
    await mustRun(BUILDCTL, args, { timeoutSeconds: 1500 });
    const digest: string = JSON.parse(fs.readFileSync(meta, "utf8"))["containerimage.digest"];
    if (!/^sha256:[0-9a-f]{64}$/.test(digest ?? "")) throw new Error(`build of ${req.name} reported no image digest`);
    return { ref: `${req.name.replace(/:[^:/]+$/, "")}@${digest}`, digest, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    throw new Error(`building ${req.name} from ${path.relative(process.cwd(), req.dockerfile)} failed: ${(err as Error).message}`);
  } finally {
    fs.rmSync(path.dirname(meta), { recursive: true, force: true });
  }
}

/** Why the engine-backed tests cannot run here, or undefined when they can. */
export async function engineMissing(baseRefFile: string): Promise<string | undefined> {
  const needs: string[] = [];
  if ((await exec(DOCKER, ["info"])).status !== 0) needs.push(`no Docker engine answers \`${DOCKER} info\``);
  if ((await exec(BUILDCTL, ["--addr", BUILDKIT_ADDR, "debug", "workers"])).status !== 0) needs.push(`no BuildKit daemon on ${BUILDKIT_ADDR}`);
  if ((await get(`http://${REGISTRY}/v2/`).catch(() => ({ status: 0 }))).status !== 200) needs.push(`no registry on http://${REGISTRY}/v2/`);
  if (!fs.existsSync(baseRefFile)) needs.push(`no base image reference in ${baseRefFile}`);
  return needs.length ? `${needs.join("; ")}. Start them with \`npm run infra\`.` : undefined;
}

/** `docker image inspect` size of `ref` in bytes (uncompressed, as `docker images` shows it). */
export async function imageSize(ref: string): Promise<number> {
  return Number(await docker("image", "inspect", "--format", "{{.Size}}", ref));
}
