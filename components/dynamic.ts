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
  // One object per provider: Pulumi serializes each object once and reuses the text.
  const key = `${file}#${exportName}`;
  const made = stubs.get(key) ?? stub(file, exportName);
  stubs.set(key, made);
  return made;
}

const stubs = new Map<string, pulumi.dynamic.ResourceProvider>();

/**
 * What the state keeps, every character of it twice per resource: `load` registers ts-node once per
 * provider process (the project is TypeScript, transpiled as the program is) and requires the real
 * provider. Comments inside these functions would be kept too, so there are none.
 */
function stub(file: string, exportName: string): pulumi.dynamic.ResourceProvider {
  type Provider = Required<pulumi.dynamic.ResourceProvider>;
  const load = (): Provider => {
    const path = require("path") as typeof import("path");
    const dir = process.cwd();
    if (!require.extensions[".ts"]) (require(require.resolve("ts-node", { paths: [dir] })) as typeof import("ts-node")).register({ transpileOnly: true, project: path.join(dir, "tsconfig.json") });
    const mod = path.join(dir, file);
    let p: Provider | undefined;
    try {
      p = (require(mod) as Record<string, Provider>)[exportName];
    } catch (e) {
      throw new Error(`fleet: the dynamic provider runs in ${dir}, which is not the fleet project (${(e as Error).message}); run pulumi from the project's directory`);
    }
    if (!p) throw new Error(`fleet: ${mod}.ts has no provider \`${exportName}\`; a state written by another version of fleet needs that version's checkout`);
    return p;
  };
  return {
    diff: async (...a) => load().diff(...a),
    create: async (...a) => load().create(...a),
    update: async (...a) => (await load().update?.(...a)) ?? {},
    delete: async (...a) => load().delete?.(...a),
  };
}
