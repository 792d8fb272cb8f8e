import { z } from "zod";

/** A whole number in [min, max], with the message users see when it is not. */
function wholeNumber(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

const gpuSchema = z.strictObject({
  /** The host's index for the device, as nvidia-smi numbers it. */
  index: wholeNumber(0, 15),
  /** Marketing name, for people reading the profile. */
  model: z.string({ error: "must be a text naming the GPU" }).min(1),
  /** Video memory in MiB. */
  memoryMiB: wholeNumber(1024, 1048576),
});

const limitSchema = z.strictObject({
  /** Memory limit of one container, MiB (CIS 5.11). */
  memoryMiB: wholeNumber(64, 1048576),
  /** Relative CPU weight of one container (CIS 5.12); Docker's default is 1024. */
  cpuShares: wholeNumber(2, 262144),
  /** Most processes and threads one container may have (CIS 5.29). Defaults to 1024. */
  pidsLimit: wholeNumber(16, 1048576).default(1024),
});

/**
 * The hardware env every container of a machine receives: the plan's "Hardware-Aware Defaults". A
 * profile sets all five; a stack may override any of them with fleet:env (same rules).
 */
export const hardwareEnvSchema = z.strictObject({
  GPU_VISIBLE_DEVICES: z
    .string({ error: 'must be a text of GPU indexes like "0" or "0,1" (empty for none)' })
    .regex(/^(\d+(,\d+)*)?$/, { error: 'must be GPU indexes like "0" or "0,1" (empty for none)' }),
  /** Checked option by option as torch parses it (see allocConf.ts). */
  TORCH_CUDA_ALLOC_CONF: z.string({ error: 'must be a text of option:value pairs like "max_split_size_mb:64"' }),
  OMP_NUM_THREADS: wholeNumber(1, 256),
  /** The default worker count of a service that needs no GPU (a GPU service gets 1: see resolveFleet). */
  UVICORN_WORKERS: wholeNumber(1, 256),
  MODEL_EVICT_THRESHOLD_PCT: wholeNumber(1, 100),
});

/** The hardware env: the five settings a profile gives every container. */
export type HardwareEnv = z.infer<typeof hardwareEnvSchema>;

/** The names of the hardware env settings. */
export const HARDWARE_ENV_KEYS = Object.keys(hardwareEnvSchema.shape) as (keyof HardwareEnv)[];

/**
 * A machine's hardware profile: the facts of the machine and the environment every container on it
 * receives. The five env settings are the plan's "Hardware-Aware Defaults".
 */
export const profileSchema = z.strictObject({
  machine: z.strictObject({
    /** One line for people: what machine this is. */
    description: z.string().min(1),
    /** Hardware threads the containers may use. */
    cpuThreads: wholeNumber(1, 1024),
    /** Memory the fleet may use, MiB. */
    memoryMiB: wholeNumber(512, 16777216),
    /** The GPUs of the machine; empty for none. */
    gpus: z.array(gpuSchema, { error: "must be a list of GPUs (empty for none)" }),
  }),
  env: hardwareEnvSchema,
  /**
   * VRAM budget of each GPU service on this machine, MiB, by service name. The GPU preflight adds
   * up the budgets of the services on one card and refuses an `up` that does not fit its memory.
   */
  vramMiB: z.record(z.string().regex(/^[A-Z][A-Za-z0-9]*$/), wholeNumber(64, 1048576), {
    error: "must map GPU service names (like ModelOpsCoordinator) to their VRAM budget in MiB",
  }).optional(),
  limits: z.strictObject({
    /** Limits of a container that needs no GPU. */
    cpu: limitSchema,
    /** Limits of a container whose service needs a GPU. */
    gpu: limitSchema,
    /** Per-service changes to its class's limits, by service name. Defaults to none. */
    services: z.record(z.string(), limitSchema.partial(), { error: "must map service names to limits like { pidsLimit: 4096 }" }).default({}),
  }),
});

/** A validated hardware profile. */
export type Profile = z.infer<typeof profileSchema>;

/** The resource limits of one container. */
export type Limits = Profile["limits"]["cpu"];
