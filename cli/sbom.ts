import * as fs from "fs";
import * as path from "path";
import { Registry } from "../registry";
import { readStackConfig } from "../stack";
import { summariseSbom } from "../supply";
import { CliError, stackOption } from "./args";
import { defineCommand } from "./command";
import { pulumiJson, pulumiRunner } from "./pulumi";

/** What `pulumi stack output services` gives per service (the fields read here). */
interface ServiceOut {
  readonly image: string;
  readonly sbom?: string;
}

/** The stack's `services` output, from Pulumi with fleet's environment (cli/pulumi.ts), as scripts/env.sh gives a shell. */
function stackServices(stack: string): Record<string, ServiceOut> {
  try {
    return pulumiJson<Record<string, ServiceOut>>(pulumiRunner(path.resolve(__dirname, "..")), ["stack", "output", "services", "--json", "--stack", stack]);
  } catch (e) {
    throw e instanceof CliError ? new CliError(`sbom: ${e.message}`) : e;
  }
}

/** `fleet sbom`: prints (or saves) the SBOM kept in the registry beside the digest a service runs. */
export const command = defineCommand({
  name: "sbom",
  summary: "the CycloneDX SBOM of the image a service runs",
  options: {
    stack: stackOption("the stack the service runs on, like local or mainpc"),
    service: { value: "NAME", required: true, description: "a service name, like CentralErrorBus" },
    out: { value: "FILE", description: "save the SBOM to FILE (a summary goes to stderr) instead of printing it" },
  },
  async run(opts) {
    const { stack, service: name } = opts;
    const services = stackServices(stack);
    const service = services[name];
    if (!service) throw new CliError(`sbom: stack ${stack} runs no service "${name}"; it runs ${Object.keys(services).sort().join(", ")}`);
    // The registry is spoken to as the stack's engine trusts it (registry/trust.ts).
    const registry = await Registry.forImage(service.image, readStackConfig(path.resolve(__dirname, ".."), stack).raw.dockerHost);
    const kept = await registry.getSbom(service.image);
    if (!kept) throw new CliError(`sbom: the registry keeps no SBOM for ${service.image}; run \`pulumi up --stack ${stack}\` to make one`);
    const summary = summariseSbom(kept.sbom);
    const out = opts.out;
    if (out) {
      fs.writeFileSync(out, kept.sbom);
      console.error(`${name}: ${service.image}: CycloneDX ${summary.specVersion}, ${summary.components} components (${Object.entries(summary.byType).map(([t, n]) => `${t} ${n}`).join(", ")}), from ${kept.artifact}, saved to ${out}`);
    } else {
      process.stdout.write(kept.sbom.endsWith("\n") ? kept.sbom : `${kept.sbom}\n`);
    }
    return 0;
  },
});
