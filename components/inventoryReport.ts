import * as pulumi from "@pulumi/pulumi";
import { supplyStep } from "./exec";

/** Inputs of an InventoryReport. */
export interface InventoryReportArgs {
  /** The ObservabilityCenter's POST /sbom URL. */
  readonly url: pulumi.Input<string>;
  readonly service: string;
  readonly machine: string;
  readonly stack: string;
  /** The image the service now runs, `repo@sha256:...`. */
  readonly image: pulumi.Input<string>;
  /** The project directory, whose supply/run.ts does the work (not part of the diff). */
  readonly projectDir: string;
}

interface ReportState {
  readonly url: string;
  readonly service: string;
  readonly machine: string;
  readonly stack: string;
  readonly image: string;
  readonly projectDir: string;
  readonly delivered?: boolean;
}

/**
 * Tells the ObservabilityCenter what a service runs: `{service, machine, stack, image, digest,
 * revision, sbom}`, the revision read from the image's own label (so a pin reports the commit its
 * image was built from, and pinning the running digest sends nothing again). An unreachable or refusing receiver does not fail the update (the service is
 * healthy and running); the report is kept as undelivered, with the reason, and sent again on the
 * next up. The methods are serialized into the state and run in the provider process all dynamic
 * resources share, so they require what they use, capture only exec.ts, and never block that process.
 */
const reportProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: ReportState, news: ReportState) {
    const changed = (["url", "service", "machine", "stack", "image"] as const).filter((k) => olds[k] !== news[k]);
    if (olds.delivered !== true) changed.push("delivered" as never);
    return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
  },
  async create(inputs: ReportState) {
    const request = { url: inputs.url, service: inputs.service, machine: inputs.machine, stack: inputs.stack, image: inputs.image };
    const out = await supplyStep(inputs.projectDir, "report", request).catch((e: Error) => ({ delivered: false, at: new Date().toISOString(), error: e.message }));
    return { id: `report-${inputs.service}-${Date.now()}`, outs: { ...inputs, ...out } };
  },
  async delete() {
    // The ObservabilityCenter keeps its history; nothing here to undo.
  },
};

/** One service's report to the ObservabilityCenter, sent after its container is healthy. */
export class InventoryReport extends pulumi.dynamic.Resource {
  /** Whether the ObservabilityCenter accepted it. */
  declare public readonly delivered: pulumi.Output<boolean>;
  /** When it was sent, ISO 8601. */
  declare public readonly at: pulumi.Output<string>;
  /** Why it was not delivered, or "". */
  declare public readonly error: pulumi.Output<string>;

  constructor(name: string, args: InventoryReportArgs, opts?: pulumi.CustomResourceOptions) {
    super(reportProvider, name, { ...args, delivered: undefined, at: undefined, error: undefined }, opts, "fleet", "InventoryReport");
  }
}
