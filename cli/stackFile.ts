import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { CliError } from "./args";

/**
 * A stack file (`Pulumi.<stack>.yaml`) edited in place: the file is committed, so its comments,
 * key order and encryption salt stay as they are, and only the keys rollback and release own change.
 */
export class StackFile {
  /** The file name, as shown to the user. */
  public readonly name: string;
  private readonly full: string;
  private readonly doc: YAML.Document;

  constructor(projectDir: string, stack: string) {
    this.name = `Pulumi.${stack}.yaml`;
    this.full = path.join(projectDir, this.name);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(this.full)) {
      const known = fs.readdirSync(projectDir).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter(Boolean);
      throw new CliError(`unknown stack ${JSON.stringify(stack)}: no ${this.name} in ${projectDir}; known stacks: ${known.join(", ")}`);
    }
    this.doc = YAML.parseDocument(fs.readFileSync(this.full, "utf8"));
    if (this.doc.errors.length) throw new CliError(`${this.name}: is not valid YAML: ${this.doc.errors[0].message.split("\n")[0]}`);
  }

  /** The `fleet:images` pins: service -> `repo@sha256:`. */
  images(): Record<string, string> {
    const v = this.doc.getIn(["config", "fleet:images"]);
    const js = v instanceof YAML.YAMLMap ? v.toJSON() : typeof v === "string" && v.trim() ? JSON.parse(v) : {};
    if (js === null || typeof js !== "object" || Array.isArray(js)) throw new CliError(`${this.name}: fleet:images: must be a mapping of service names to pinned images`);
    return js as Record<string, string>;
  }

  /** Sets `fleet:images` (removing the key when there are no pins). */
  setImages(images: Readonly<Record<string, string>>): void {
    if (!Object.keys(images).length) {
      this.doc.deleteIn(["config", "fleet:images"]);
      return;
    }
    const sorted = Object.fromEntries(Object.entries(images).sort(([a], [b]) => (a < b ? -1 : 1)));
    this.doc.setIn(["config", "fleet:images"], this.doc.createNode(sorted));
  }

  /** Every `fleet:` key the file sets, as plain values. */
  fleetConfig(): Record<string, unknown> {
    const config = this.doc.get("config");
    const js = config instanceof YAML.YAMLMap ? (config.toJSON() as Record<string, unknown>) : {};
    return Object.fromEntries(Object.entries(js).filter(([k]) => k.startsWith("fleet:")));
  }

  /**
   * Replaces every `fleet:` key with `config` (an update's stack config, keys with namespace, as
   * the history records it: Pulumi.yaml's defaults included). A key at its default is left out of
   * the file, as a user would write it; keys of other namespaces and the encryption salt are kept.
   * Returns the keys whose value changed.
   */
  restoreFleetConfig(config: Readonly<Record<string, unknown>>, defaults: Readonly<Record<string, string>> = {}): string[] {
    const before = this.fleetConfig();
    const fallback = (k: string) => defaults[k.slice("fleet:".length)];
    const wanted = Object.fromEntries(Object.entries(config).filter(([k, v]) => k.startsWith("fleet:") && engineForm(v) !== fallback(k)));
    // What the engine would hand the program: the file's value, else Pulumi.yaml's default.
    const effective = (file: Record<string, unknown>, k: string) => (k in file ? engineForm(file[k]) : fallback(k));
    const changed = [...new Set([...Object.keys(before), ...Object.keys(wanted)])].filter((k) => effective(before, k) !== effective(wanted, k)).sort();
    for (const k of Object.keys(before)) if (!(k in wanted)) this.doc.deleteIn(["config", k]);
    for (const [k, v] of Object.entries(wanted)) if (engineForm(before[k]) !== engineForm(v)) this.doc.setIn(["config", k], this.doc.createNode(v));
    return changed;
  }

  /** Writes the file back. */
  save(): void {
    fs.writeFileSync(this.full, this.doc.toString({ lineWidth: 0 }));
  }
}

/** A config value the way the engine hands it to the program: scalars as text, mappings as JSON. */
function engineForm(v: unknown): string | undefined {
  return v === undefined ? undefined : v !== null && typeof v === "object" ? JSON.stringify(v) : String(v);
}
