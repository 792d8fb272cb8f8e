import { z } from "zod";
import { MACHINES } from "../catalog";
import { isPinnedRef } from "../registry";
import { hardwareEnvSchema } from "../profiles/schema";

const pinned = z
  .string({ error: "must be an image reference text" })
  .refine(isPinnedRef, { error: "must be pinned by digest: host[:port]/repo[:tag]@sha256:<64 hex digits>" });

const wholeNumber = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const bool = z.boolean({ error: "must be true or false" });
const text = (what: string) => z.string({ error: `must be ${what}` }).min(1, { error: `must be ${what}` });

// `pulumi config set --path` stores a value that looks like a number as a number, and one set
// without --path is text: both reach the program, so numbers and their text are taken alike.
const asNumber = (v: unknown) => (typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v);
const asText = (v: unknown) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v);

/**
 * fleet:env: any of the profile's hardware env settings, with the profile's rules, over its values.
 * The rules that need the machine (GPU indexes, threads) and torch's allocator parser run in
 * resolveFleet on the merged env.
 */
export const stackEnvSchema = z.strictObject(
  {
    GPU_VISIBLE_DEVICES: z.preprocess(asText, hardwareEnvSchema.shape.GPU_VISIBLE_DEVICES).optional(),
    TORCH_CUDA_ALLOC_CONF: z.preprocess(asText, hardwareEnvSchema.shape.TORCH_CUDA_ALLOC_CONF).optional(),
    OMP_NUM_THREADS: z.preprocess(asNumber, hardwareEnvSchema.shape.OMP_NUM_THREADS).optional(),
    UVICORN_WORKERS: z.preprocess(asNumber, hardwareEnvSchema.shape.UVICORN_WORKERS).optional(),
    MODEL_EVICT_THRESHOLD_PCT: z.preprocess(asNumber, hardwareEnvSchema.shape.MODEL_EVICT_THRESHOLD_PCT).optional(),
  },
  { error: "must be a mapping of hardware env settings like { OMP_NUM_THREADS: 8 }" },
);

/** Per-service environment: service name -> { KEY: value }. Names and keys are checked in resolveFleet. */
const perServiceEnv = (what: string) =>
  z.record(
    z.string(),
    z.record(z.string(), z.preprocess(asText, z.string({ error: `must be ${what}` })), { error: `must map environment variable names to ${what}s` }),
    { error: `must map service names to { KEY: ${what} } mappings` },
  );

/**
 * Every `fleet:` key a stack file may set, with the kind of value the engine hands over. Defaults
 * live in Pulumi.yaml (one place, shown by `pulumi config`); the engine applies them, and
 * `npm run render` applies them the same way.
 */
export const STACK_KEYS = {
  machine: "string",
  profile: "string",
  cpuOnly: "boolean",
  dockerHost: "string",
  registry: "string",
  builder: "string",
  baseImage: "string",
  baseImageFile: "string",
  locks: "string",
  bindAddress: "string",
  publishAllInterfaces: "boolean",
  services: "object",
  images: "object",
  sources: "object",
  defaultSource: "string",
  healthTimeoutSeconds: "integer",
  buildOnPreview: "boolean",
  retainVolumes: "boolean",
  buildCatalog: "boolean",
  imagesFrom: "string",
  scanSeverity: "string",
  scanFailOnUnfixed: "boolean",
  scanDbDir: "string",
  env: "object",
  serviceEnv: "object",
  secrets: "object",
  workers: "object",
} as const;

/** A stack key's name without the `fleet:` namespace. */
export type StackKey = keyof typeof STACK_KEYS;

/** The schema of a stack's `fleet:` config after the engine's defaults are applied. */
export const stackSchema = z
  .strictObject({
    machine: z.enum(MACHINES, { error: `must be one of ${MACHINES.join(", ")}` }),
    profile: z.string({ error: "must name a file in profiles/ (without .json)" }).regex(/^[a-z0-9][a-z0-9-]*$/, { error: "must name a file in profiles/ (without .json)" }),
    cpuOnly: bool,
    dockerHost: z.string({ error: "must be a Docker host URL" }).regex(/^(unix|tcp|ssh|npipe):\/\/\S+$/, { error: "must be a Docker host URL like unix:///var/run/docker.sock or ssh://user@host" }),
    registry: z
      .string({ error: "must be a registry and path like 127.0.0.1:5000/fleet" })
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/, { error: "must be a registry and path like 127.0.0.1:5000/fleet (lower case, no tag)" }),
    builder: text("the name of a buildx builder"),
    baseImage: pinned.optional(),
    baseImageFile: text("a path to a file holding a pinned base image reference").optional(),
    locks: z.enum(["cuda", "cpu"], { error: 'must be "cuda" (the real GPU wheels) or "cpu" (light CPU wheels, for machines without a GPU)' }),
    bindAddress: z.ipv4({ error: "must be the IPv4 address of one of the host's interfaces, like 127.0.0.1 or the machine's LAN address" }),
    publishAllInterfaces: bool,
    services: z
      .strictObject({
        phases: z.array(z.string({ error: 'must be a plan phase like "4.2"' }), { error: 'must be a list of plan phases like ["4.1", "4.2"]' }).optional(),
        names: z.array(z.string({ error: "must be a service name" }), { error: "must be a list of service names" }).optional(),
      }, { error: 'must be an object like { phases: ["4.2"], names: ["CentralErrorBus"] }' })
      .optional(),
    images: z.record(z.string(), pinned, { error: "must map service names to pinned image references" }).optional(),
    sources: z.record(z.string(), text("a directory"), { error: "must map service names to source directories" }).optional(),
    defaultSource: text("a directory"),
    healthTimeoutSeconds: wholeNumber(10, 3600),
    buildOnPreview: bool,
    retainVolumes: bool,
    buildCatalog: bool.optional(),
    imagesFrom: z
      .string({ error: "must name the stack that builds the images, like organization/fleet/mainpc" })
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/, { error: "must name the stack that builds the images, like organization/fleet/mainpc (or just mainpc)" })
      .optional(),
    scanSeverity: z.enum(["LOW", "MEDIUM", "HIGH", "CRITICAL"], { error: "must be LOW, MEDIUM, HIGH or CRITICAL (the lowest severity that stops an image)" }),
    scanFailOnUnfixed: bool,
    scanDbDir: text("a directory holding a Trivy database (db/trivy.db and db/metadata.json)").optional(),
    env: stackEnvSchema.optional(),
    serviceEnv: perServiceEnv("a text value").optional(),
    secrets: perServiceEnv("a text value, set with pulumi config set --secret").optional(),
    workers: z.record(z.string(), z.preprocess(asNumber, wholeNumber(1, 256)), { error: "must map service names to worker counts like { MemoryFusionHub: 4 }" }).optional(),
  })
  // Neither is a stack whose base is not made yet: render shows it, the program stops naming `fleet base`.
  .refine((c) => c.baseImage === undefined || c.baseImageFile === undefined, {
    error: "set one of fleet:baseImage (a pinned reference) or fleet:baseImageFile (a file holding one), not both",
    path: ["baseImage"],
  })
  // 0.0.0.0 publishes every service, unauthenticated, on every interface of the host (CIS 5.14).
  .refine((c) => c.bindAddress !== "0.0.0.0" || c.publishAllInterfaces, {
    error: "0.0.0.0 publishes every service on every interface of the host; set the machine's LAN address (or 127.0.0.1), or set fleet:publishAllInterfaces: true to accept that",
    path: ["bindAddress"],
  })
  .refine((c) => !(c.imagesFrom && c.buildCatalog), {
    error: "a stack either builds the catalog's images (fleet:buildCatalog: true) or takes them from another stack (fleet:imagesFrom), not both",
    path: ["imagesFrom"],
  })
  .refine((c) => !(c.imagesFrom && c.sources && Object.keys(c.sources).length), {
    error: "fleet:sources has no effect on a stack that takes its images from another stack (fleet:imagesFrom); set sources on the stack that builds them",
    path: ["sources"],
  });

/** A stack's validated `fleet:` config. */
export type StackConfig = z.infer<typeof stackSchema>;
