import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";

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
        if (args.type === "docker-build:index:Image") {
          state.digest = fakeDigest(args.name);
          state.ref = `${args.inputs.tags[0]}@${state.digest}`;
          state.contextHash = fakeDigest(`${args.name}-context`);
        }
        // A StackReference answers with the outputs the test gives for that stack name.
        if (args.type === "pulumi:pulumi:StackReference") state.outputs = stackOutputs[args.inputs.name] ?? {};
        if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = fakeDigest(`${args.inputs.name}-id`);
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
