import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { FleetInputError, problem } from "../errors";
import { SECRET_SHOWN, secretLeaves } from "./serviceEnv";

/** A value as the engine hands it to a program: scalars as text, mappings and lists as JSON. */
function engineForm(value: unknown): string {
  return value !== null && typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Parses a YAML file into a plain object, or throws a FleetInputError naming the file and line. */
function readYaml(projectDir: string, file: string): Record<string, unknown> {
  const full = path.join(projectDir, file);
  if (!fs.existsSync(full)) throw new FleetInputError([problem(file, "", "does not exist")]);
  const doc = YAML.parseDocument(fs.readFileSync(full, "utf8"), { prettyErrors: true });
  if (doc.errors.length) {
    throw new FleetInputError(doc.errors.map((e) => problem(file, `line ${e.linePos?.[0].line ?? "?"}`, `is not valid YAML: ${e.message.split("\n")[0]}`)));
  }
  const data = doc.toJS() as unknown;
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new FleetInputError([problem(file, "", "must be a YAML mapping")]);
  return data as Record<string, unknown>;
}

/** The defaults Pulumi.yaml declares for the project's config keys. */
export function projectDefaults(projectDir: string): Record<string, string> {
  const project = readYaml(projectDir, "Pulumi.yaml");
  const config = (project.config ?? {}) as Record<string, { default?: unknown }>;
  return Object.fromEntries(
    Object.entries(config)
      .filter(([, decl]) => decl && typeof decl === "object" && decl.default !== undefined)
      .map(([key, decl]) => [key, engineForm(decl.default)]),
  );
}

/** A value as Pulumi writes an encrypted one in a stack file: `{ secure: <ciphertext> }`. */
function isSecure(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === "string";
}

/** `value` with every encrypted leaf replaced by [secret] (nothing here can decrypt), and whether it had one. */
function blindSecrets(value: unknown): { value: unknown; secret: boolean } {
  if (isSecure(value)) return { value: SECRET_SHOWN, secret: true };
  if (value === null || typeof value !== "object") return { value, secret: false };
  let secret = false;
  const walk = (v: unknown) => {
    const r = blindSecrets(v);
    secret ||= r.secret;
    return r.value;
  };
  const out = Array.isArray(value) ? value.map(walk) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
  return { value: out, secret };
}

/** The value at a `Service.KEY` leaf of a fleet:secrets mapping. */
function leafOf(secrets: unknown, leaf: string): unknown {
  const dot = leaf.indexOf(".");
  return (secrets as Record<string, Record<string, unknown>>)[leaf.slice(0, dot)][leaf.slice(dot + 1)];
}

/** A stack's `fleet:` config as read from its files, without the engine. */
export interface StackConfigRead {
  /** The stack file, as named in errors. */
  readonly file: string;
  /** Keys without the namespace, values in engine form; encrypted values read [secret]. */
  readonly raw: Record<string, string>;
  /** Keys (without the namespace) the engine would mark secret: those holding an encrypted value. */
  readonly secretKeys: string[];
  /** fleet:secrets values written in plain text, as `Service.KEY`. */
  readonly plainSecrets: string[];
}

/**
 * Reads a stack's `fleet:` config the way the engine would hand it to the program: the stack
 * file's values over Pulumi.yaml's defaults, keys without the namespace, values in engine form.
 * Encrypted values cannot be read here: they read [secret].
 */
export function readStackConfig(projectDir: string, stack: string): StackConfigRead {
  const file = `Pulumi.${stack}.yaml`;
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(path.join(projectDir, file))) {
    const known = fs.readdirSync(projectDir).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter(Boolean);
    throw new FleetInputError([problem(file, "", `no such stack file; known stacks: ${known.join(", ")}`, stack)]);
  }
  const data = readYaml(projectDir, file);
  const config = (data.config ?? {}) as Record<string, unknown>;
  if (typeof config !== "object" || Array.isArray(config)) throw new FleetInputError([problem(file, "config", "must be a YAML mapping")]);
  const raw = projectDefaults(projectDir);
  const secretKeys: string[] = [];
  let plainSecrets: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith("fleet:")) continue;
    const name = key.slice("fleet:".length);
    const blind = blindSecrets(value);
    raw[name] = engineForm(blind.value);
    if (blind.secret) secretKeys.push(name);
    if (name === "secrets") plainSecrets = secretLeaves(value).filter((leaf) => !isSecure(leafOf(value, leaf)));
  }
  return { file, raw, secretKeys, plainSecrets };
}

/**
 * The CA bundle pip inside builds must trust, where outbound TLS is inspected by a proxy whose CA
 * only the host trusts: FLEET_PIP_CA, else pip's own PIP_CERT. It reaches builds as the `pip-ca`
 * build context (source/stage.ts pipCaContext), bound for pip's steps only, never stored in an image.
 */
export function pipCaFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.FLEET_PIP_CA ?? env.PIP_CERT;
  return file && fs.existsSync(file) ? file : undefined;
}
