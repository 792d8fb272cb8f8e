import * as pulumi from "@pulumi/pulumi";

/**
 * The provider a fleet dynamic resource registers with: the few lines Pulumi serializes into the
 * state for it, which load the real provider, `exportName` of the project file `file` (relative to
 * the project, without `.ts`), when the engine first calls it. The provider process runs in the
 * project directory (where Pulumi.yaml is), so the real provider is always the checkout's own code:
 * it is not copied into the state (once in the inputs and once in the outputs of every resource),
 * and its steps run in that process (no program started per step). The methods of the real
 * provider must keep their names; its code may change freely.
 */
export function projectProvider(file: string, exportName: string): pulumi.dynamic.ResourceProvider {
  // Serialized: captures only `file` and `exportName`, requires what it uses.
  const load = (): pulumi.dynamic.ResourceProvider => {
    const path = require("path") as typeof import("path");
    const dir = process.cwd();
    if (!require.extensions[".ts"]) {
      // Once per provider process: the project is TypeScript, transpiled as the program is.
      const tsNode = require(require.resolve("ts-node", { paths: [dir] })) as typeof import("ts-node");
      tsNode.register({ transpileOnly: true, project: path.join(dir, "tsconfig.json") });
    }
    const mod = path.join(dir, file);
    let provider: pulumi.dynamic.ResourceProvider | undefined;
    try {
      provider = (require(mod) as Record<string, pulumi.dynamic.ResourceProvider>)[exportName];
    } catch (e) {
      throw new Error(`fleet: the dynamic provider runs in ${dir}, which is not the fleet project (${(e as Error).message}); run pulumi from the project's directory`);
    }
    if (!provider) throw new Error(`fleet: ${mod}.ts has no provider \`${exportName}\`; a state written by another version of fleet needs that version's checkout`);
    return provider;
  };
  return {
    diff: async (id, olds, news) => {
      const p = load();
      return p.diff ? p.diff.call(p, id, olds, news) : {};
    },
    create: async (inputs) => {
      const p = load();
      return p.create.call(p, inputs);
    },
    update: async (id, olds, news) => {
      const p = load();
      return p.update ? p.update.call(p, id, olds, news) : {};
    },
    delete: async (id, props) => {
      const p = load();
      if (p.delete) await p.delete.call(p, id, props);
    },
  };
}
