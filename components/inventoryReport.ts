import * as pulumi from "@pulumi/pulumi";
import { DYNAMIC } from "../contract";
import { ProjectResource } from "./dynamic";
import { steps } from "./steps";

/** Inputs of an InventoryReport. */
export interface InventoryReportArgs {
  /** The ObservabilityCenter's POST /sbom URL. */
  readonly url: pulumi.Input<string>;
  readonly service: string;
  readonly machine: string;
  readonly stack: string;
  /** The image the service now runs, `repo@sha256:...`. */
  readonly image: pulumi.Input<string>;
  /** The digest of the image's inputs (its `dev.fleet.inputs` label), or "pinned"/"unknown" for an image this stack did not build. */
  readonly inputs: pulumi.Input<string>;
  /** The git HEAD of the checkout that deploys it (not part of the diff). */
  readonly commit: string;
  /** The stack's Docker engine (fleet:dockerHost), whose trust decides plain HTTP to the registry (registry/trust.ts; not part of the diff). */
  readonly dockerHost: string;
}

interface ReportState {
  readonly url: string;
  readonly service: string;
  readonly machine: string;
  readonly stack: string;
  readonly image: string;
  readonly inputs?: string;
  readonly commit?: string;
  readonly dockerHost: string;
  readonly delivered?: boolean;
}

/**
 * Tells the ObservabilityCenter what a service runs: `{service, machine, stack, image, digest,
 * inputs, commit, sbom}`, once per digest. Only what decides the record (receiver, service,
 * machine, stack, image) is compared: a new commit alone (a README-only commit, a shallow clone, a
 * rebase) changes nothing, so the record keeps the commit that first deployed the digest, and
 * pinning the running digest sends nothing again. An unreachable or refusing receiver does not
 * fail the update (the service is healthy and running); the report is kept as undelivered, with
 * the reason, and sent again on the next up. A dynamic provider, run from the project's code
 * (components/dynamic.ts) in the provider process all dynamic resources share.
 */
export const reportProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: ReportState, news: ReportState) {
    const changed = (["url", "service", "machine", "stack", "image"] as const).filter((k) => olds[k] !== news[k]);
    if (olds.delivered !== true) changed.push("delivered" as never);
    return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
  },
  async create(inputs: ReportState) {
    const request = { url: inputs.url, service: inputs.service, machine: inputs.machine, stack: inputs.stack, image: inputs.image, inputs: inputs.inputs ?? "unknown", commit: inputs.commit ?? "unknown", dockerHost: inputs.dockerHost };
    const out = await steps().report(request).catch((e: Error) => ({ delivered: false, at: new Date().toISOString(), error: e.message }));
    return { id: `report-${inputs.service}-${Date.now()}`, outs: { ...inputs, ...out } };
  },
  async delete() {
    // The ObservabilityCenter keeps its history; nothing here to undo.
  },
};

/** One service's report to the ObservabilityCenter, sent after its container is healthy. */
export class InventoryReport extends ProjectResource {
  /** Whether the ObservabilityCenter accepted it. */
  declare public readonly delivered: pulumi.Output<boolean>;
  /** When it was sent, ISO 8601. */
  declare public readonly at: pulumi.Output<string>;
  /** Why it was not delivered, or "". */
  declare public readonly error: pulumi.Output<string>;

  constructor(name: string, args: InventoryReportArgs, opts?: pulumi.CustomResourceOptions) {
    super(DYNAMIC.inventoryReport, { file: "components/inventoryReport", exportName: "reportProvider" }, name, { ...args, delivered: undefined, at: undefined, error: undefined }, opts);
  }
}
