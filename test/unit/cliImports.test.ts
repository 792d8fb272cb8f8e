import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const CLI = path.resolve(__dirname, "../../cli");

/**
 * The imports among a folder's files, by file name: every `import`/`export ... from` (type-only
 * ones too: a circle of types is still a circle of design), `import("...")` and `require("...")`
 * of a sibling. A lazily `import()`ed module counts, because its importer still depends on it.
 */
function importGraph(files: Readonly<Record<string, string>>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, text] of Object.entries(files)) {
    const targets = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((i) => i.fileName)
      .filter((spec) => spec.startsWith("./") && !spec.slice(2).includes("/"))
      .map((spec) => `${spec.slice(2).replace(/\.ts$/, "")}.ts`)
      .filter((target) => target in files);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The first import circle found, as the path that closes it (`a.ts -> b.ts -> a.ts`), or undefined. */
function findCircle(graph: ReadonlyMap<string, readonly string[]>): string | undefined {
  const done = new Set<string>();
  const visit = (file: string, trail: string[]): string | undefined => {
    const at = trail.indexOf(file);
    if (at >= 0) return [...trail.slice(at), file].join(" -> ");
    if (done.has(file)) return undefined;
    for (const next of graph.get(file) ?? []) {
      const circle = visit(next, [...trail, file]);
      if (circle) return circle;
    }
    done.add(file);
    return undefined;
  };
  for (const file of [...graph.keys()].sort()) {
    const circle = visit(file, []);
    if (circle) return circle;
  }
  return undefined;
}

describe("cli/ modules", () => {
  it("import one another without a circle", () => {
    const files = Object.fromEntries(
      fs
        .readdirSync(CLI)
        .filter((f) => f.endsWith(".ts"))
        .map((f) => [f, fs.readFileSync(path.join(CLI, f), "utf8")]),
    );
    assert.ok(Object.keys(files).length > 5, `only ${Object.keys(files).join(", ")} in ${CLI}`);
    assert.equal(findCircle(importGraph(files)), undefined);
  });

  it("the circle check rejects the old shape: main.ts loads a command lazily, the command imports Command from main.ts", () => {
    // main.ts and base.ts as they were before cli/command.ts existed (trimmed).
    const files = {
      "main.ts": 'import { CliError } from "./args";\nexport interface Command { run(argv: string[]): Promise<number> }\nconst COMMANDS = { base: async () => (await import("./base")).command };\n',
      "base.ts": 'import { CliError, parseArgs } from "./args";\nimport { Command } from "./main";\nexport const command: Command = { async run() { return 0; } };\n',
      "history.ts": 'import type { Command } from "./main";\n',
      "args.ts": "export class CliError extends Error {}\n",
    };
    assert.equal(findCircle(importGraph(files)), "base.ts -> main.ts -> base.ts");
    // A type-only import closes a circle too.
    assert.equal(findCircle(importGraph({ ...files, "main.ts": 'const C = { h: () => import("./history") };\n', "base.ts": "" })), "history.ts -> main.ts -> history.ts");
  });

  it("importing cli/main.ts runs nothing: it prints nothing, exits nothing, and exports main(argv)", async () => {
    const file = require.resolve("../../cli/main");
    delete require.cache[file];
    const calls: string[] = [];
    const { log, error } = console;
    const exit = process.exit;
    console.log = () => void calls.push("console.log");
    console.error = () => void calls.push("console.error");
    process.exit = (() => void calls.push("process.exit")) as typeof process.exit;
    let loaded: { main?: unknown };
    try {
      loaded = require(file) as { main?: unknown };
      // A main() started on import would print or exit once its promise settles.
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      Object.assign(console, { log, error });
      process.exit = exit;
    }
    assert.deepEqual(calls, []);
    assert.equal(typeof loaded.main, "function");
  });
});
