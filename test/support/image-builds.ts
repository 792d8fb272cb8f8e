import * as fs from "fs";
import * as path from "path";
import { FAMILIES, SERVICES } from "../../catalog";
import { BUILD_ARGS, LABELS } from "../../contract";
import { buildAndPush, BuiltImage, mustRun, REGISTRY } from "./docker";
import { REPO } from "./project";
import { SOURCE_DATE_EPOCH } from "../../components/images";
import { inputsDigest } from "../../source/inputs";
import { contextFilesOf } from "../../source/stage";
import { familyDockerfile } from "../../stack";

/**
 * Builds of the real Dockerfiles the way the Pulumi components build them (same contexts, build
 * args, SOURCE_DATE_EPOCH and inputs label), with the CPU locks, for the image tests and the size bench.
 */

/** Where `npm run infra` writes the pinned Debian base image reference. */
export const BASE_REF_FILE = path.join(REPO, ".fleet", "base-image.ref");
/** The family build context. */
export const DOCKERFILES = path.join(REPO, "dockerfiles");
/** The reference service's source folder: the context of every service build here. */
export const REFERENCE_SERVICE = path.join(REPO, "examples", "reference-service");

/** Family names, parents before children (the catalog's order). */
export const FAMILY_ORDER: readonly string[] = FAMILIES.map((f) => f.name);

/** FLEET_BUILD_NO_CACHE=1 rebuilds every layer (cold-build timings; pip's wheel cache mount still serves). */
const NO_CACHE_DEFAULT = process.env.FLEET_BUILD_NO_CACHE === "1";

/** The SOURCE_DATE_EPOCH of every build here: the program's one fixed instant. */
export { SOURCE_DATE_EPOCH };

/** The lock a CPU-only machine installs for `family`: the light one, present for every family. */
export const cpuLock = (family: string) => `requirements/${family}.cpu.lock`;

/** The first catalog service of each family: its name and ports label the test service built on that family. */
export function sampleServiceOf(family: string): { name: string; servicePort: number; healthPort: number } {
  const s = SERVICES.find((x) => x.family === family);
  if (!s) throw new Error(`no service of the catalog uses family ${family}`);
  return { name: s.name, servicePort: s.ports.service, healthPort: s.ports.health };
}

/** The pinned Debian base image reference written by `npm run infra`. */
export function baseImageRef(): string {
  const ref = fs.readFileSync(BASE_REF_FILE, "utf8").trim();
  if (!/@sha256:[0-9a-f]{64}$/.test(ref)) throw new Error(`${BASE_REF_FILE} holds ${JSON.stringify(ref)}, not a repo@sha256: reference`);
  return ref;
}

/** Builds one family FROM `parentRef` (its parent's `repo@sha256:`, or the Debian base) with its CPU lock. */
export function buildFamily(repoPrefix: string, family: string, parentRef: string, opts: { noCache?: boolean } = {}): Promise<BuiltImage> {
  return buildAndPush({
    context: DOCKERFILES,
    dockerfile: path.join(REPO, familyDockerfile(FAMILIES.find((f) => f.name === family)!)),
    name: `${REGISTRY}/${repoPrefix}/${family}:test`,
    buildArgs: { [BUILD_ARGS.base]: parentRef, [BUILD_ARGS.lock]: cpuLock(family) },
    noCache: opts.noCache ?? NO_CACHE_DEFAULT,
    sourceDateEpoch: SOURCE_DATE_EPOCH,
  });
}

/** Builds every family, parents first, each FROM its parent's pushed digest. */
export async function buildFamilies(repoPrefix: string, opts: { noCache?: boolean; log?: (line: string) => void } = {}): Promise<Map<string, BuiltImage>> {
  const built = new Map<string, BuiltImage>();
  const base = baseImageRef();
  for (const family of FAMILIES) {
    const parent = family.parent ? built.get(family.parent)?.ref : base;
    if (!parent) throw new Error(`family ${family.name}: its parent ${family.parent} was not built first`);
    const image = await buildFamily(repoPrefix, family.name, parent, opts);
    opts.log?.(`built ${family.name} in ${image.seconds.toFixed(1)} s: ${image.ref}`);
    built.set(family.name, image);
  }
  return built;
}

/** Builds the reference service on `familyRef` with service.Dockerfile (or another service Dockerfile, for the bench). */
export async function buildService(
  repoPrefix: string,
  family: string,
  familyRef: string,
  opts: { dockerfile?: string; suffix?: string; noCache?: boolean } = {},
): Promise<BuiltImage> {
  const sample = sampleServiceOf(family);
  const dockerfile = opts.dockerfile ?? path.join(DOCKERFILES, "service.Dockerfile");
  const inputs = inputsDigest(fs.readFileSync(dockerfile, "utf8"), contextFilesOf(REFERENCE_SERVICE));
  return buildAndPush({
    context: REFERENCE_SERVICE,
    dockerfile,
    name: `${REGISTRY}/${repoPrefix}/reference-on-${family}${opts.suffix ?? ""}:test`,
    buildArgs: {
      [BUILD_ARGS.family]: familyRef,
      [BUILD_ARGS.serviceName]: sample.name,
      [BUILD_ARGS.servicePort]: String(sample.servicePort),
      [BUILD_ARGS.healthPort]: String(sample.healthPort),
      [BUILD_ARGS.inputs]: inputs,
    },
    labels: { [LABELS.inputs]: inputs },
    noCache: opts.noCache ?? NO_CACHE_DEFAULT,
    sourceDateEpoch: SOURCE_DATE_EPOCH,
  });
}
