import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Registry, parseImageRef, summariseSbom } from "../supply";
import { CliError, parseArgs, required } from "./args";
import type { Command } from "./main";

const USAGE = "sbom --stack STACK --service NAME [--out FILE]: the CycloneDX SBOM of the image a service runs";

/** What `pulumi stack output services` gives per service (the fields read here). */
interface ServiceOut {
  readonly image: string;
  readonly sbom?: string;
}

/** The stack's `services` output, from Pulumi with the same backend and toolchain as scripts/env.sh. */
function stackServices(stack: string): Record<string, ServiceOut> {
  const cache = process.env.FLEET_CACHE ?? path.join(os.homedir(), ".cache", "fleet");
  const env = {
    ...process.env,
    PATH: `${path.join(cache, "bin")}:${process.env.PATH}`,
    PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL ?? `file://${path.join(cache, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const r = spawnSync("pulumi", ["stack", "output", "services", "--json", "--stack", stack], { cwd: path.resolve(__dirname, ".."), env, encoding: "utf8" });
  if (r.error) throw new CliError(`sbom: cannot run pulumi: ${r.error.message}; run \`npm run toolchain\` first`);
  if (r.status !== 0) throw new CliError(`sbom: pulumi stack output services --stack ${stack} failed: ${(r.stderr || r.stdout).trim().split("\n").pop()}`);
  return JSON.parse(r.stdout) as Record<string, ServiceOut>;
}

/** `fleet sbom`: prints (or saves) the SBOM kept in the registry beside the digest a service runs. */
export const command: Command = {
  summary: USAGE,
  async run(argv) {
    if (argv.includes("--help")) {
      console.log(`usage: npm run fleet -- ${USAGE}`);
      return 0;
    }
    const args = parseArgs("sbom", argv, { valued: ["stack", "service", "out"], flags: [] });
    const stack = required("sbom", args, "stack", "the stack the service runs on, like local or mainpc");
    const name = required("sbom", args, "service", "a service name, like CentralErrorBus");
    const services = stackServices(stack);
    const service = services[name];
    if (!service) throw new CliError(`sbom: stack ${stack} runs no service "${name}"; it runs ${Object.keys(services).sort().join(", ")}`);
    parseImageRef(service.image);
    const kept = await new Registry(parseImageRef(service.image).host).getSbom(service.image);
    if (!kept) throw new CliError(`sbom: the registry keeps no SBOM for ${service.image}; run \`pulumi up --stack ${stack}\` to make one`);
    const summary = summariseSbom(kept.sbom);
    const out = args.values.get("out")?.[0];
    if (out) {
      fs.writeFileSync(out, kept.sbom);
      console.error(`${name}: ${service.image}: CycloneDX ${summary.specVersion}, ${summary.components} components (${Object.entries(summary.byType).map(([t, n]) => `${t} ${n}`).join(", ")}), from ${kept.artifact}, saved to ${out}`);
    } else {
      process.stdout.write(kept.sbom.endsWith("\n") ? kept.sbom : `${kept.sbom}\n`);
    }
    return 0;
  },
};
