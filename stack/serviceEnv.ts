import { HARDWARE_ENV_KEYS } from "../profiles/schema";
import { problem } from "../errors";

/** What `render` and error messages show in place of a secret value. */
export const SECRET_SHOWN = "[secret]";

/** An environment variable name a shell and Docker both accept. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Why a per-service key may not be set, or undefined when it may: the fleet's own env decides the
 * hardware, the GPUs, the ports and the service's identity, and no service may change those alone.
 */
export function reservedReason(key: string): string | undefined {
  if (key === "UVICORN_WORKERS") return "is the service's worker count; set it with fleet:workers.<service> (a whole number from 1 to 256)";
  if ((HARDWARE_ENV_KEYS as readonly string[]).includes(key)) return `is a hardware env setting of every container; set it for the stack with fleet:env.${key}`;
  if (key === "PYTORCH_CUDA_ALLOC_CONF") return "would override fleet:env.TORCH_CUDA_ALLOC_CONF (dockerfiles/fleet_env.py copies that into it); set fleet:env.TORCH_CUDA_ALLOC_CONF";
  if (["SERVICE_NAME", "SERVICE_PORT", "HEALTH_PORT"].includes(key)) return "is set by the fleet from the catalog (the health probe and the app read it)";
  if (["NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES"].includes(key)) return "decides which GPUs and driver libraries the container gets; the fleet sets it from fleet:env.GPU_VISIBLE_DEVICES";
  if (key === "TINI_SUBREAPER") return "is set by the fleet's health canary";
  if (key.startsWith("FLEET_")) return "is reserved: FLEET_* names belong to the fleet";
  return undefined;
}

/**
 * Problems with fleet:serviceEnv or fleet:secrets keys (names, reserved keys) and with a key set in
 * both for one service. A secret's value is never quoted back.
 */
export function serviceEnvKeyProblems(
  file: string,
  serviceEnv: Readonly<Record<string, Readonly<Record<string, string>>>>,
  secrets: Readonly<Record<string, Readonly<Record<string, string>>>>,
): string[] {
  const out: string[] = [];
  for (const [setting, table] of [["serviceEnv", serviceEnv], ["secrets", secrets]] as const) {
    for (const [service, env] of Object.entries(table)) {
      for (const [key, value] of Object.entries(env)) {
        const where = `fleet:${setting}.${service}.${key}`;
        const shown = setting === "secrets" ? SECRET_SHOWN : value;
        if (!ENV_NAME.test(key)) out.push(problem(file, where, "must be an environment variable name: letters, digits and _, not starting with a digit", key));
        else if (reservedReason(key)) out.push(problem(file, where, `${key} ${reservedReason(key)}; fleet:${setting} may add other variables only`, shown));
      }
    }
  }
  for (const [service, env] of Object.entries(secrets)) {
    for (const key of Object.keys(env).filter((k) => k in (serviceEnv[service] ?? {}))) {
      out.push(problem(file, `fleet:secrets.${service}.${key}`, `is set in fleet:serviceEnv.${service} too; keep a variable in one of them (fleet:secrets for a value that must stay encrypted)`));
    }
  }
  return out;
}

/** The problem of a fleet:secrets value the stack file holds in plain text. */
export function plainSecretProblem(file: string, stack: string, leaf: string): string {
  return problem(
    file,
    `fleet:secrets.${leaf}`,
    `is stored in plain text in the stack file; encrypt it with \`pulumi config set --secret --path 'fleet:secrets.${leaf}' <value> -s ${stack}\``,
  );
}

/** The `Service.KEY` leaves of a fleet:secrets mapping (anything else is left to the schema). */
export function secretLeaves(secrets: unknown): string[] {
  if (secrets === null || typeof secrets !== "object" || Array.isArray(secrets)) return [];
  return Object.entries(secrets).flatMap(([service, env]) =>
    env !== null && typeof env === "object" && !Array.isArray(env) ? Object.keys(env).map((key) => `${service}.${key}`) : [],
  );
}
