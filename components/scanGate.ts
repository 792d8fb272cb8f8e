import * as pulumi from "@pulumi/pulumi";
import { DYNAMIC } from "../contract";
import { ProjectResource } from "./dynamic";
import { steps } from "./steps";
import { AllowEntry } from "../supply/allowlist";
import { Severity } from "../supply/findings";

/** Inputs of a ScanGate. */
export interface ScanGateArgs {
  /** The service, for messages. */
  readonly service: string;
  /** The image to scan, `repo@sha256:...`; a new digest is scanned again. */
  readonly image: pulumi.Input<string>;
  /** The lowest severity that stops the image. */
  readonly severity: Severity;
  /** Stop on findings without a fixed version too. */
  readonly failOnUnfixed: boolean;
  /** A directory holding a Trivy database to use without updating it; "" for Trivy's own. */
  readonly dbDir: string;
  /** Findings let through (security/allowlist.yaml, checked and unexpired). */
  readonly allowlist: readonly AllowEntry[];
  /** The stack's Docker engine (fleet:dockerHost), whose trust decides plain HTTP to the registry (registry/trust.ts; not part of the diff). */
  readonly dockerHost: string;
}

interface GateState {
  readonly service: string;
  readonly image: string;
  readonly severity: string;
  readonly failOnUnfixed: boolean;
  readonly dbDir: string;
  readonly allowlist: readonly AllowEntry[];
  readonly dockerHost: string;
}

/**
 * Scans the image with Trivy on create and fails, one line per finding, when the gate stops it.
 * Only the digest and the gate's settings are its identity: an unchanged digest is not scanned
 * again on each up, nor when the allowlist or the checkout changes. A dynamic provider, run from
 * the project's code (components/dynamic.ts) in the provider process all dynamic resources share.
 */
export const gateProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: GateState, news: GateState) {
    const changed = (["image", "severity", "failOnUnfixed"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
  },
  async create(inputs: GateState) {
    const out = await steps().scan({ ...inputs, severity: inputs.severity as Severity, allowlist: [...inputs.allowlist] });
    return { id: `scan-${inputs.image.slice(inputs.image.lastIndexOf("@") + 8, inputs.image.lastIndexOf("@") + 20)}-${Date.now()}`, outs: { ...inputs, ...out } };
  },
  async delete() {
    // A scan leaves nothing behind.
  },
};

/**
 * The vulnerability gate of one digest: the container depends on it, so an image the gate stops
 * never replaces the running container, as with the health canary.
 */
export class ScanGate extends ProjectResource {
  /** The image that passed. */
  declare public readonly image: pulumi.Output<string>;
  /** How many findings the scanner reported (any severity). */
  declare public readonly findings: pulumi.Output<number>;
  /** Findings the allowlist let through, `id in package (until date)`. */
  declare public readonly allowed: pulumi.Output<string[]>;

  constructor(name: string, args: ScanGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(DYNAMIC.scanGate, { file: "components/scanGate", exportName: "gateProvider" }, name, { ...args, allowlist: [...args.allowlist], findings: undefined, allowed: undefined }, opts);
  }
}
