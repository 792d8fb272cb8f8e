import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { dynamicType } from "../contract";

/** Where a fleet dynamic resource's provider lives: `exportName` of the project file `file` (relative to the project, without `.ts`). */
export interface ProviderRef {
  readonly file: string;
  readonly exportName: string;
}

/**
 * A dynamic resource of the fleet: Pulumi's `pulumi-nodejs:dynamic` resource, whose provider the
 * state names instead of copying. `pulumi.dynamic.Resource` serializes the provider object with its
 * closures into `__provider`, and the engine keeps that text in both the inputs and the outputs of
 * every resource; the fleet gives it the one line `providerModule` writes, the same module form
 * the Node.js dynamic provider loads (`exports.handler` returning the provider). The provider
 * process runs in the project directory (where Pulumi.yaml is), so the provider is always the
 * checkout's own code: its steps may change freely, and they run in that process.
 */
export class ProjectResource extends pulumi.CustomResource {
  constructor(type: string, provider: ProviderRef, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(dynamicType(type), name, { ...props, __provider: providerModule(provider) }, opts);
  }
}

/**
 * The module text the state keeps for `provider` (about 230 characters, against 2.3 KB for the
 * smallest serialized closure): it loads the project's load.js in the provider process (which
 * runs in the project directory), which loads the project's TypeScript as the program does, and
 * hands over to `loadProvider` of this file.
 */
export function providerModule(provider: ProviderRef): string {
  const args = `${JSON.stringify(provider.file)},${JSON.stringify(provider.exportName)}`;
  return (
    `exports.handler=()=>{const d=process.cwd();` +
    `try{var m=require(d+"/load")}` +
    `catch(e){throw new Error("fleet: run pulumi in the fleet project, not in "+d+" ("+e.message+")")}` +
    `return m.provider(${args})}`
  );
}

/** The provider a state names, from the project the provider process runs in; an error that says which, when the checkout has no such provider. */
export function loadProvider(file: string, exportName: string): pulumi.dynamic.ResourceProvider {
  const mod = path.join(process.cwd(), file);
  let exported: Record<string, pulumi.dynamic.ResourceProvider | undefined>;
  try {
    exported = require(mod);
  } catch (e) {
    throw new Error(`fleet: ${mod}.ts does not load (${(e as Error).message}); a state written by another version of fleet needs that version's checkout`);
  }
  const provider = exported[exportName];
  if (!provider) throw new Error(`fleet: ${mod}.ts has no provider \`${exportName}\`; a state written by another version of fleet needs that version's checkout`);
  return provider;
}
