import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { TYPES } from "../../contract";
import type { ResolvedFleet } from "../../stack";
import { valueOf } from "./output";

/** A resource the program registered, as the engine would have seen it. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

/** A fake digest derived from a name, so tests can predict it. */
export function fakeDigest(name: string): string {
  return `sha256:${crypto.createHash("sha256").update(name).digest("hex")}`;
}

/**
 * Installs Pulumi mocks that record every registration and return what the real providers
 * compute: digests and refs for images, an image id for a pull, a name for a container, and for a
 * StackReference the outputs `stackOutputs` gives under its stack name.
 */
export function recordResources(stack: string, stackOutputs: Readonly<Record<string, Record<string, unknown>>> = {}): Registered[] {
  const registered: Registered[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === TYPES.builtImage) {
          state.digest = fakeDigest(args.name);
          state.ref = `${args.inputs.tags[0]}@${state.digest}`;
          state.contextHash = fakeDigest(`${args.name}-context`);
        }
        // A StackReference answers with the outputs the test gives for that stack name.
        if (args.type === "pulumi:pulumi:StackReference") state.outputs = stackOutputs[args.inputs.name] ?? {};
        if (args.type === TYPES.remoteImage) state.imageId = fakeDigest(`${args.inputs.name}-id`);
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    "fleet",
    stack,
    false,
  );
  return registered;
}

/** Waits until the runtime has finished registering everything the program declared. */
export async function settled(): Promise<void> {
  // Outputs resolve on later ticks; a short pause lets every apply run in mock mode.
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** What the program registered for a stack under mocks, with its resolved fleet and outputs. */
export interface ProgramRun {
  readonly fleet: ResolvedFleet;
  readonly registered: Registered[];
  readonly outputs: { services: Record<string, any>; families: Record<string, string>; images: Record<string, string> };
}

/**
 * What the engine would decrypt: `fleet:` keys (without the namespace) whose values the stack file
 * holds encrypted, as the engine hands them over (engine form), marked secret as the engine does.
 */
export type Decrypted = Readonly<Record<string, string>>;

/**
 * Runs the program's config reader and Fleet for `stack` of `projectDir` under mocks, as the engine
 * would run index.ts (without the preflight), and returns every registration once all settled.
 * `stackOutputs` answers StackReferences by stack name; `decrypted` stands in for the engine's
 * decryption of the stack file's `secure:` values. A partial update is read from FLEET_PARTIAL, as
 * index.ts reads it.
 */
export async function runProgram(stack: string, projectDir: string, stackOutputs: Readonly<Record<string, Record<string, unknown>>> = {}, decrypted: Decrypted = {}): Promise<ProgramRun> {
  const registered = recordResources(stack, stackOutputs);
  const { readStackConfig } = await import("../../stack");
  const { raw, secretKeys } = readStackConfig(projectDir, stack);
  const config = { ...raw, ...decrypted };
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`fleet:${k}`, v])),
    [...new Set([...secretKeys, ...Object.keys(decrypted)])].map((k) => `fleet:${k}`),
  );
  const { loadFleet, loadPartial } = await import("../../config");
  const { Fleet } = await import("../../components");
  const fleet = loadFleet(projectDir);
  // The engine as the README's home step leaves it: registry.home.arpa:5000 trusted over plain HTTP.
  const engineRegistries = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "registry", "docker-20.10-home.json"), "utf8"));
  const component = new Fleet("fleet", { fleet, projectDir, engineRegistries, partial: loadPartial(fleet) });
  const outputs = { services: await valueOf(component.services), families: await valueOf(component.families), images: await valueOf(component.images) };
  await settled();
  return { fleet, registered, outputs };
}
