import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { FleetInputError, problem } from "../errors";

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

/**
 * Reads a stack's `fleet:` config the way the engine would hand it to the program: the stack
 * file's values over Pulumi.yaml's defaults, keys without the namespace, values in engine form.
 */
export function readStackConfig(projectDir: string, stack: string): { file: string; raw: Record<string, string> } {
  const file = `Pulumi.${stack}.yaml`;
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(path.join(projectDir, file))) {
    const known = fs.readdirSync(projectDir).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter(Boolean);
    throw new FleetInputError([problem(file, "", `no such stack file; known stacks: ${known.join(", ")}`, stack)]);
  }
  const data = readYaml(projectDir, file);
  const config = (data.config ?? {}) as Record<string, unknown>;
  if (typeof config !== "object" || Array.isArray(config)) throw new FleetInputError([problem(file, "config", "must be a YAML mapping")]);
  const raw = projectDefaults(projectDir);
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith("fleet:")) raw[key.slice("fleet:".length)] = engineForm(value);
  }
  return { file, raw };
}

/**
 * The CA bundle pip inside builds must trust, where outbound TLS is inspected by a proxy whose CA
 * only the host trusts: FLEET_PIP_CA, else pip's own PIP_CERT. It reaches builds as the `pip-ca`
 * build secret, so it is never stored in an image.
 */
export function pipCaFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.FLEET_PIP_CA ?? env.PIP_CERT;
  return file && fs.existsSync(file) ? file : undefined;
}
