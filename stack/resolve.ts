import * as fs from "fs";
import * as path from "path";
import { buildCatalog, Catalog, CatalogService, lineage, Machine, runsOn } from "../catalog";
import { FleetInputError, problem, show } from "../errors";
import { GpuRequest, gpuRequest, hardwareEnvProblems, Limits, limitsFor, loadProfile, Profile, profileEnv } from "../profiles";
import { LABELS } from "../contract";
import { isPinnedRef } from "../registry";
import { headCommit } from "../source/git";
import { familyContext, inputsDigest, inputsTag, Provenance, serviceContext } from "../source/inputs";
import { ContextFile } from "../source/stage";
import { AllowEntry, loadAllowlist } from "../supply/allowlist";
import { Severity } from "../supply/findings";
import { decodeStackConfig } from "./decode";
import { pipCaFile, readStackConfig } from "./read";
import { StackConfig } from "./schema";
import { plainSecretProblem, serviceEnvKeyProblems } from "./serviceEnv";

/** How an image is built from source here. */
export interface BuildPlan {
  readonly kind: "build";
  /** Registry repository, without tag. */
  readonly repository: string;
  /** Tag pushed beside the digest: `src-<first 12 hex of the inputs digest>`. */
  readonly tag: string;
  /** The digest of what it is built from (its identity) and the checkout's commit. */
  readonly provenance: Provenance;
  /** OCI labels of the image. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * How a service's image is chosen: built from source here, pinned to an existing digest, or taken
 * from the stack that builds the images (fleet:imagesFrom). A pinned service keeps its build plan
 * where the stack builds: its image stays in the graph as it is (a pin deletes nothing, and a
 * release goes back to it without a rebuild) while the container runs the pin.
 */
export type ImagePlan =
  | BuildPlan
  | {
      readonly kind: "pinned";
      /** The `repo@sha256:` reference the stack forces (the plan's FORCE_IMAGE_TAG, and rollback). */
      readonly ref: string;
      /** What the service's source builds, kept while the pin holds; none on a stack that builds nothing. */
      readonly build?: BuildPlan;
    }
  | {
      readonly kind: "stack";
      /** The stack whose `images` output holds this service's `repo@sha256:` (fleet:imagesFrom). */
      readonly stack: string;
    };

/** A family image the stack builds. */
export interface ResolvedFamily {
  readonly name: string;
  /** The family it is built FROM; null for the root, built FROM the stack's base image. */
  readonly parent: string | null;
  /** Dockerfile, relative to the project. */
  readonly dockerfile: string;
  /** Hash-locked requirements, relative to dockerfiles/. */
  readonly lock: string;
  readonly image: BuildPlan;
}

/** A service container the stack runs, with everything it needs. */
export interface ResolvedService {
  readonly name: string;
  /** Lower-case dashed name, used for images, containers and volumes. */
  readonly slug: string;
  readonly family: string;
  readonly phase: string;
  /** Whether the catalog says the service needs a GPU. */
  readonly needsGpu: boolean;
  /** Whether the container gets a GPU (false for every service on a CPU-only stack). */
  readonly gpu: boolean;
  readonly gpuRequest?: GpuRequest;
  readonly ports: { readonly service: number; readonly health: number };
  /**
   * The container's plain environment: the hardware env (fleet:env over the profile's), the
   * service's worker count, its fleet:serviceEnv, and the fleet's own variables.
   */
  readonly env: Readonly<Record<string, string>>;
  /**
   * The service's fleet:secrets, as plain text: the resolver stays pure and engine-free, so the
   * components wrap these with pulumi.secret where they meet a resource. Never part of `env`, so
   * whatever prints `env` (render, errors) cannot show them.
   */
  readonly secretEnv: Readonly<Record<string, string>>;
  /** UVICORN_WORKERS of the service: fleet:workers, else 1 for a GPU service, else the hardware env's. */
  readonly workers: number;
  readonly limits: Limits;
  /** Source directory of the service's image, relative to the project (built while pinned too). */
  readonly source: string | null;
  readonly image: ImagePlan;
}

/** Everything a stack will build and run: the single input of the Fleet component. */
export interface ResolvedFleet {
  readonly stack: string;
  readonly stackFile: string;
  readonly machine: Machine;
  readonly profile: {
    readonly name: string;
    readonly file: string;
    readonly description: string;
    /** The profile as its file holds it (fleet:env not applied): what the GPU preflight checks the host against. */
    readonly parsed: Profile;
  };
  /** The hardware env every container gets: fleet:env over the profile's env. */
  readonly hardwareEnv: Readonly<Record<string, string>>;
  readonly dockerHost: string;
  readonly registry: string;
  readonly builder: string;
  /** The root family's base, pinned by digest; empty while `baseMissing` says how to make it. */
  readonly baseImage: string;
  /** Set when the stack names no base yet (a fresh clone of a home stack): the command that makes it. */
  readonly baseMissing?: string;
  readonly bindAddress: string;
  /** The git HEAD of the checkout that resolved it, or "unknown": told to the ObservabilityCenter, never baked into an image. */
  readonly commit: string;
  /**
   * Prefix of every Docker object the stack creates (`fleet-<stack>`): containers
   * `<prefix>-<slug>`, volumes `<prefix>-<slug>-data`, canaries `<prefix>-canary-<slug>-*`. It
   * comes from the stack, so two stacks share one Docker host without a clash.
   */
  readonly prefix: string;
  /** The stack's user-defined network (CIS 5.30): the prefix. */
  readonly network: string;
  readonly cpuOnly: boolean;
  readonly healthTimeoutSeconds: number;
  readonly buildOnPreview: boolean;
  readonly retainVolumes: boolean;
  /** A CA bundle that pip inside builds must trust (a TLS-inspecting proxy), or undefined. */
  readonly pipCaFile?: string;
  /** The vulnerability gate every new digest passes (security/allowlist.yaml and fleet:scan*). */
  readonly scan: { readonly severity: Severity; readonly failOnUnfixed: boolean; readonly dbDir: string; readonly allowlist: readonly AllowEntry[] };
  /** The catalog's root family, whose image runs the stack's ports (components/stackPorts.ts). */
  readonly rootFamily: string;
  /** Families to build, parents first. Only those some built service needs. */
  readonly families: readonly ResolvedFamily[];
  readonly services: readonly ResolvedService[];
  /**
   * Services whose image this stack builds without running them (fleet:buildCatalog: every catalog
   * service not placed on the machine), so that a stack taking its images from this one
   * (fleet:imagesFrom) builds nothing.
   */
  readonly imagesOnly: readonly ResolvedService[];
  /** The stack whose images this one runs (fleet:imagesFrom), or undefined when it builds its own. */
  readonly imagesFrom?: string;
}

/** What resolveFleet needs. Everything but `config` has a default read from the project. */
export interface FleetInput {
  readonly stack: string;
  /** The stack file, as named in errors. */
  readonly stackFile: string;
  readonly config: StackConfig;
  readonly projectDir: string;
  /** The git HEAD of the checkout (source/git.ts headCommit), or "unknown"; informational only. */
  readonly commit: string;
  readonly catalog?: Catalog;
  readonly profile?: Profile;
  /** A CA bundle for pip inside builds; taken from the environment by the caller. */
  readonly pipCaFile?: string;
  /**
   * fleet:secrets values the stack file holds in plain text, as `Service.KEY`: each is an error.
   * The caller knows (the engine marks encrypted config; the stack file says `secure:`). Defaults to none.
   */
  readonly plainSecrets?: readonly string[];
  /** Today, for allowlist expiry. Defaults to now. */
  readonly today?: Date;
}

/** `ModelOpsCoordinator` -> `model-ops-coordinator`. */
export function slugOf(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/**
 * Resolves a stack into the fleet it runs: which services, built from which families, with which
 * environment, GPU request, limits and images. Pure apart from reading the project's files; throws
 * FleetInputError listing every problem before any resource exists.
 */
export function resolveFleet(input: FleetInput): ResolvedFleet {
  const { config: c, stackFile: file, projectDir } = input;
  const catalog = input.catalog ?? buildCatalog();
  const profileOnly = input.profile ?? loadProfile(projectDir, c.profile, file);
  // fleet:env over the profile's env: the profile gives the validated defaults, the stack (config,
  // so history records it and rollback --config restores it) what it changes.
  const profile: Profile = { ...profileOnly, env: { ...profileOnly.env, ...c.env } };
  const profileFile = path.join("profiles", `${c.profile}.json`);
  const problems: string[] = [];

  const enabled = selectServices(catalog, c, file, problems);
  const placedHere = catalog.services.filter((s) => runsOn(s.placement, c.machine)).map((s) => s.name);
  for (const key of ["images", "sources", "serviceEnv", "secrets", "workers"] as const) {
    for (const name of Object.keys(c[key] ?? {})) {
      const svc = catalog.services.find((s) => s.name === name);
      if (!svc) problems.push(problem(file, `fleet:${key}.${name}`, `is not a service; known: ${catalog.services.map((s) => s.name).join(", ")}`));
      // A stack that builds the whole catalog (mainpc) builds the images of services it does not run
      // (CentralErrorBus for pc2): their sources are its to set, though nothing else of them is.
      else if (!placedHere.includes(name) && !(key === "sources" && c.buildCatalog)) problems.push(problem(file, `fleet:${key}.${name}`, `${name} is placed on ${svc.placement}, not on ${c.machine}, so this stack never runs it; services of ${c.machine}: ${placedHere.join(", ")}${key === "sources" ? " (a stack with fleet:buildCatalog: true may set the source of every service it builds)" : ""}`));
    }
  }
  problems.push(...hardwareEnvProblems(profile.env, profile.machine, file, "fleet:env.", Object.keys(c.env ?? {})));
  problems.push(...serviceEnvKeyProblems(file, c.serviceEnv ?? {}, c.secrets ?? {}));
  for (const leaf of input.plainSecrets ?? []) problems.push(plainSecretProblem(file, input.stack, leaf));
  for (const [name, dir] of Object.entries(c.sources ?? {})) sourceProblems(projectDir, dir, `fleet:sources.${name}`).forEach((p) => problems.push(problem(file, `fleet:sources.${name}`, p, dir)));
  sourceProblems(projectDir, c.defaultSource, "fleet:defaultSource").forEach((p) => problems.push(problem(file, "fleet:defaultSource", p, c.defaultSource)));

  if (!c.cpuOnly && profile.machine.gpus.length === 0) {
    for (const s of enabled.filter((s) => s.gpu)) {
      problems.push(problem(file, "fleet:services", `${s.name} needs a GPU (family ${s.family}) but ${profileFile} lists none in machine.gpus; set fleet:cpuOnly: true to run it without one, or leave it out of fleet:services`));
    }
  }
  const needMiB = enabled.reduce((sum, s) => sum + limitsFor(profile, s).memoryMiB, 0);
  if (needMiB > profile.machine.memoryMiB) {
    problems.push(problem(profileFile, "limits", `the ${enabled.length} services of stack ${input.stack} need ${needMiB} MiB together, more than machine.memoryMiB (${profile.machine.memoryMiB})`));
  }
  const baseImage = readBaseImage(c, projectDir, file, input.stack, problems);
  const allowlist = collect(problems, () => loadAllowlist(projectDir, input.today ?? new Date()), []);
  if (c.scanDbDir && !isDir(projectDir, c.scanDbDir)) problems.push(problem(file, "fleet:scanDbDir", "must be an existing directory (relative to the project) holding db/trivy.db", c.scanDbDir));
  if (problems.length) throw new FleetInputError(problems);

  const plans = new BuildPlans(input);
  const services = enabled.map((s) => resolveService(s, c, profile, plans));
  const imagesOnly = c.buildCatalog ? catalog.services.filter((s) => !enabled.includes(s)).map((s) => resolveService(s, c, profile, plans)) : [];
  // Pinned services count too: their images stay in the graph, and so do the families they need.
  const builds = (s: ResolvedService) => s.image.kind === "build" || (s.image.kind === "pinned" && s.image.build !== undefined);
  const builtFamilies = new Set([...services, ...imagesOnly].filter(builds).flatMap((s) => lineage(catalog.families, s.family).map((f) => f.name)));
  const families = catalog.families
    .filter((f) => builtFamilies.has(f.name))
    .map((f): ResolvedFamily => {
      const lock = `requirements/${f.name}${c.locks === "cpu" && f.gpu ? ".cpu" : ""}.lock`;
      const dockerfile = familyDockerfile(f);
      return { name: f.name, parent: f.parent, dockerfile, lock, image: plans.family(`${c.registry}/${f.name}`, f.name, dockerfile, lock) };
    });

  return {
    stack: input.stack,
    stackFile: file,
    machine: c.machine,
    profile: { name: c.profile, file: profileFile, description: profile.machine.description, parsed: profileOnly },
    hardwareEnv: profileEnv(profile),
    dockerHost: c.dockerHost,
    registry: c.registry,
    builder: c.builder,
    baseImage,
    ...(baseImage ? {} : { baseMissing: baseCommand(input.stack, file) }),
    bindAddress: c.bindAddress,
    commit: input.commit,
    prefix: `fleet-${input.stack}`,
    network: `fleet-${input.stack}`,
    cpuOnly: c.cpuOnly,
    healthTimeoutSeconds: c.healthTimeoutSeconds,
    buildOnPreview: c.buildOnPreview,
    retainVolumes: c.retainVolumes,
    pipCaFile: input.pipCaFile,
    scan: { severity: c.scanSeverity, failOnUnfixed: c.scanFailOnUnfixed, dbDir: c.scanDbDir ?? "", allowlist },
    rootFamily: catalog.families[0].name,
    families,
    services,
    imagesOnly,
    imagesFrom: c.imagesFrom,
  };
}

/** Where resolveStack takes a stack's `fleet:` config from, and what it changes. */
export interface StackSource {
  /**
   * The `fleet:` config as the engine hands it to the program (keys without the namespace, values
   * in engine form), and the fleet:secrets values it holds in plain text (`Service.KEY`). Defaults
   * to what the stack file and Pulumi.yaml say (readStackConfig).
   */
  readonly config?: { readonly raw: Readonly<Record<string, string>>; readonly plainSecrets: readonly string[] };
  /** Values over the stack's, keys without the namespace, in engine form. Defaults to none. */
  readonly overrides?: Readonly<Record<string, string>>;
  /** The catalog to resolve against. Defaults to the project's. */
  readonly catalog?: Catalog;
}

/**
 * Resolves stack `stack` of the checkout at `projectDir`, as the engine would: its `fleet:` config
 * decoded, the checkout's commit, and pip's CA bundle from the environment. The one way a stack
 * is resolved, whether the engine hands the config over (config.ts) or it is read from the files
 * (`npm run render`, the bench, the tests). Throws FleetInputError listing every problem.
 */
export function resolveStack(projectDir: string, stack: string, from: StackSource = {}): ResolvedFleet {
  const stackFile = `Pulumi.${stack}.yaml`;
  const { raw, plainSecrets } = from.config ?? readStackConfig(projectDir, stack);
  return resolveFleet({
    stack,
    stackFile,
    config: decodeStackConfig({ ...raw, ...from.overrides }, stackFile),
    projectDir,
    commit: headCommit(projectDir),
    catalog: from.catalog,
    pipCaFile: pipCaFile(),
    plainSecrets,
  });
}

function resolveService(s: CatalogService, c: StackConfig, profile: Profile, plans: BuildPlans): ResolvedService {
  const slug = slugOf(s.name);
  const forced = c.images?.[s.name];
  // A stack that takes its images from another builds none, pins included.
  const source = c.imagesFrom ? null : c.sources?.[s.name] ?? c.defaultSource;
  const build = source === null ? undefined : plans.service(`${c.registry}/${slug}`, s.name, source);
  const image: ImagePlan = forced ? { kind: "pinned", ref: forced, build } : build ?? { kind: "stack", stack: c.imagesFrom! };
  const request = gpuRequest(profile, s.gpu, c.cpuOnly);
  // Each uvicorn worker of a GPU service would load the model and hold a CUDA context of its own.
  const workers = c.workers?.[s.name] ?? (s.gpu ? 1 : profile.env.UVICORN_WORKERS);
  return {
    name: s.name,
    slug,
    family: s.family,
    phase: s.phase,
    needsGpu: s.gpu,
    gpu: request !== undefined,
    gpuRequest: request,
    ports: { ...s.ports },
    env: {
      ...profileEnv(profile),
      UVICORN_WORKERS: String(workers),
      ...c.serviceEnv?.[s.name],
      // The NVIDIA runtime gives a GPU container the compute libraries only (no graphics, video).
      ...(request ? { NVIDIA_DRIVER_CAPABILITIES: "compute,utility" } : {}),
      SERVICE_NAME: s.name,
      SERVICE_PORT: String(s.ports.service),
      HEALTH_PORT: String(s.ports.health),
      FLEET_MACHINE: c.machine,
    },
    secretEnv: { ...c.secrets?.[s.name] },
    workers,
    limits: limitsFor(profile, s),
    source,
    image,
  };
}

/** The Dockerfile every service image is built with. */
export const SERVICE_DOCKERFILE = "dockerfiles/service.Dockerfile";

/**
 * Build plans named by their inputs: the digest of the Dockerfile and of exactly the files that
 * are staged as the context (source/inputs.ts), computed once per Dockerfile and context.
 */
class BuildPlans {
  private readonly digests = new Map<string, string>();

  constructor(private readonly input: FleetInput) {}

  /** A family's plan: its Dockerfile and what that Dockerfile COPYs from dockerfiles/, its lock among them. */
  family(repository: string, title: string, dockerfile: string, lock: string): BuildPlan {
    return this.plan(repository, title, dockerfile, dockerfile, (text) => familyContext(this.input.projectDir, text, lock), lock);
  }

  /** A service's plan: the shared service Dockerfile and the service's source folder. */
  service(repository: string, title: string, source: string): BuildPlan {
    return this.plan(repository, title, source, SERVICE_DOCKERFILE, () => serviceContext(this.input.projectDir, source), source);
  }

  private plan(repository: string, title: string, shownSource: string, dockerfile: string, files: (dockerfileText: string) => ContextFile[], contextKey: string): BuildPlan {
    const key = `${dockerfile}\0${contextKey}`;
    let inputs = this.digests.get(key);
    if (inputs === undefined) {
      const text = fs.readFileSync(path.resolve(this.input.projectDir, dockerfile), "utf8");
      inputs = inputsDigest(text, files(text));
      this.digests.set(key, inputs);
    }
    return {
      kind: "build",
      repository,
      tag: inputsTag(inputs),
      provenance: { inputs, commit: this.input.commit },
      labels: {
        [LABELS.title]: title,
        "org.opencontainers.image.source": shownSource,
        [LABELS.inputs]: inputs,
        "org.opencontainers.image.vendor": "fleet",
      },
    };
  }
}

/**
 * The Dockerfile a family is built with: the root family has its own; every family below it is its
 * parent plus its lock, built with the one dockerfiles/family.Dockerfile.
 */
export function familyDockerfile(family: { readonly name: string; readonly parent: string | null }): string {
  return family.parent ? "dockerfiles/family.Dockerfile" : `dockerfiles/${family.name}.Dockerfile`;
}

/** The services this stack runs: those placed on its machine, narrowed by fleet:services. */
function selectServices(catalog: Catalog, c: StackConfig, file: string, problems: string[]): CatalogService[] {
  const placed = catalog.services.filter((s) => runsOn(s.placement, c.machine));
  const phases = c.services?.phases;
  const names = c.services?.names;
  const knownPhases = [...new Set(catalog.services.map((s) => s.phase))].sort();
  phases?.forEach((p, i) => {
    if (!knownPhases.includes(p)) problems.push(problem(file, `fleet:services.phases[${i}]`, `is not a phase of the plan; known: ${knownPhases.join(", ")}`, p));
  });
  names?.forEach((n, i) => {
    const svc = catalog.services.find((s) => s.name === n);
    if (!svc) problems.push(problem(file, `fleet:services.names[${i}]`, `is not a service; known: ${catalog.services.map((s) => s.name).join(", ")}`, n));
    else if (!runsOn(svc.placement, c.machine)) problems.push(problem(file, `fleet:services.names[${i}]`, `${n} is placed on ${svc.placement}, not on ${c.machine}`, n));
  });
  if (!phases && !names) return placed;
  return placed.filter((s) => phases?.includes(s.phase) || names?.includes(s.name));
}

/**
 * The stack's pinned base image: fleet:baseImage, or the contents of fleet:baseImageFile; "" when
 * the stack names neither yet (a home stack before `fleet base` wrote its digest into the stack file).
 */
function readBaseImage(c: StackConfig, projectDir: string, file: string, stack: string, problems: string[]): string {
  if (c.baseImage) return c.baseImage;
  if (!c.baseImageFile) return "";
  const refFile = c.baseImageFile;
  const full = path.resolve(projectDir, refFile);
  if (!fs.existsSync(full)) {
    problems.push(problem(file, "fleet:baseImageFile", `${refFile} does not exist; run \`npm run infra\` (the local registry) or \`npm run fleet -- base --stack ${stack}\` (the stack's registry) to make the base image and write it`, refFile));
    return "";
  }
  const ref = fs.readFileSync(full, "utf8").trim();
  if (!isPinnedRef(ref)) {
    problems.push(problem(refFile, "", `must hold one image reference pinned by digest (host[:port]/repo@sha256:<64 hex>); got ${show(ref)}`));
  }
  return ref;
}

/** What a stack without a base is told to run: the one command that makes the base and pins it. */
export function baseCommand(stack: string, file: string): string {
  return `no base image is pinned yet (fleet:baseImage in ${file}); run \`npm run fleet -- base --stack ${stack}\` to make it (or find it in the registry) and pin it there, then commit ${file}`;
}

/**
 * What is wrong with a service source folder: the shared service.Dockerfile needs a
 * requirements.lock and an `app` package run as `python -m app`, so a folder without them would
 * only fail at build time.
 */
function sourceProblems(projectDir: string, dir: string, key: string): string[] {
  const full = path.resolve(projectDir, dir);
  if (!fs.existsSync(full) || !fs.statSync(full).isDirectory()) return ["must be an existing directory (relative to the project)"];
  const needs = ["requirements.lock", "app/__main__.py"].filter((f) => !fs.existsSync(path.join(full, f)));
  return needs.length ? [`must hold what dockerfiles/service.Dockerfile builds, but ${needs.join(" and ")} ${needs.length > 1 ? "are" : "is"} missing (see examples/reference-service for ${key}'s layout)`] : [];
}

/** Runs `read`; its FleetInputError's problems join `problems` and `fallback` is returned instead. */
function collect<T>(problems: string[], read: () => T, fallback: T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof FleetInputError)) throw e;
    problems.push(...e.problems);
    return fallback;
  }
}

function isDir(projectDir: string, dir: string): boolean {
  try {
    return fs.statSync(path.resolve(projectDir, dir)).isDirectory();
  } catch {
    return false;
  }
}
