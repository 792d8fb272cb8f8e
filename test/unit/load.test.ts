import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { run } from "../../proc";
import { REPO, tempDir } from "../support/project";

const LOAD = path.join(REPO, "load.js");
/** Node code that says whether the closure serializer's compiler or arborist is loaded. */
const HEAVY = `() => Object.keys(require.cache).filter((k) => /node_modules\\/(typescript|@npmcli\\/arborist)\\//.test(k)).length > 0`;
const { CACHE, transpile, warm } = require(LOAD) as { CACHE: string; transpile: (text: string, file: string) => string; warm: (dir?: string) => number };

/** The cache's files made by `act`. */
function madeBy(act: () => void): string[] {
  const before = new Set(fs.existsSync(CACHE) ? fs.readdirSync(CACHE) : []);
  act();
  return fs.readdirSync(CACHE).filter((f) => !before.has(f));
}

describe("load.js: the project's TypeScript, transpiled once per content", function () {
  this.timeout(60000);
  const made: string[] = [];
  after(() => made.forEach((f) => fs.rmSync(path.join(CACHE, f), { force: true })));

  it("keeps a file's JavaScript by its content: the next load reads it, an edited file is transpiled again", () => {
    const file = path.join(tempDir("fleet-load-"), "cached.ts");
    const text = `const n: number = 41;\nexport const answer = n + 1;\n`;
    fs.writeFileSync(file, text);
    const first = madeBy(() => assert.match(transpile(text, file), /exports\.answer = n \+ 1/));
    made.push(...first);
    assert.equal(first.length, 1, `one cached file: ${first.join(", ")}`);
    // What the cache holds is what loads, in another process too, and no compiler is loaded for it.
    fs.writeFileSync(path.join(CACHE, first[0]), `exports.answer = "from the cache";\n`);
    assert.equal(transpile(text, file), `exports.answer = "from the cache";\n`);
    const child = run(process.execPath, ["-r", LOAD, "-e", `console.log(require(${JSON.stringify(file)}).answer, Object.keys(require.cache).some((k) => k.includes("/node_modules/typescript/")))`]);
    assert.equal(child.stdout, "from the cache false\n", child.stderr);
    const edited = madeBy(() => assert.match(transpile(text.replace("41", "1"), file), /const n = 1;/));
    made.push(...edited);
    assert.equal(edited.length, 1);
  });

  it("warms the cache with every file not in it yet (npm ci, npm run up), so no command loads the compiler after", () => {
    const dir = tempDir("fleet-load-");
    const files = { "a.ts": "export const a = 1;\n", "sub/b.ts": "export const b: number = 2;\n", "node_modules/c.ts": "export const c = 3;\n", "types.d.ts": "declare const d: number;\n" };
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
    const first = madeBy(() => assert.equal(warm(dir), 2, "a.ts and sub/b.ts, not what node_modules holds or a declaration file"));
    made.push(...first);
    assert.equal(first.length, 2);
    assert.deepEqual(madeBy(() => assert.equal(warm(dir), 0)), [], "a warm cache makes nothing");
    // The project itself, in copies whose tsconfig.json differs by spaces (so none of their files
    // is cached yet): `fleet rollback` loads the compiler for its own files, unless the copy ran
    // `node load.js --warm` first.
    const rollbackLoadsCompiler = (spaces: number, warmFirst: boolean) => {
      const copy = tempDir("fleet-load-project-");
      fs.cpSync(REPO, copy, { recursive: true, filter: (f) => !/^(node_modules|test|bench|\.git|results|docs)$/.test(path.relative(REPO, f)) });
      fs.symlinkSync(path.join(REPO, "node_modules"), path.join(copy, "node_modules"));
      fs.appendFileSync(path.join(copy, "tsconfig.json"), " ".repeat(spaces));
      const load = path.join(copy, "load.js");
      const probe = `require("./cli/main.ts").main(["rollback", "--help"]).then(() => console.error(Object.keys(require.cache).some((k) => k.includes("/node_modules/typescript/"))))`;
      let child = { stderr: "" };
      made.push(
        ...madeBy(() => {
          if (warmFirst) assert.equal(run(process.execPath, [load, "--warm"], { cwd: copy }).status, 0);
          child = run(process.execPath, ["-r", load, "-e", probe], { cwd: copy });
        }),
      );
      return child.stderr;
    };
    assert.equal(rollbackLoadsCompiler(1, false), "true\n", "a cold cache: the command line transpiles its own files");
    assert.equal(rollbackLoadsCompiler(2, true), "false\n", "after node load.js --warm, fleet rollback loads no compiler");
  });

  it("loads the Pulumi SDK without its closure serializer's compiler and arborist, which load when a serializer function is first called", () => {
    const probe = [
      `const heavy = ${HEAVY};`,
      `const pulumi = require("@pulumi/pulumi");`,
      `const atStart = heavy();`,
      `pulumi.runtime.serializeFunction(() => 42).then((f) => console.log(atStart, heavy(), f.text.includes("42")));`,
    ].join("\n");
    const withLoad = run(process.execPath, ["-r", LOAD, "-e", probe], { cwd: REPO });
    assert.equal(withLoad.stdout, "false true true\n", withLoad.stderr);
    // Without load.js the SDK loads them at its start: what the deferral saves.
    const plain = run(process.execPath, ["-e", probe], { cwd: REPO });
    assert.equal(plain.stdout, "true true true\n", plain.stderr);
  });

  it("points a thrown error's stack frame at the TypeScript file and line, in the project and outside it", () => {
    // One file in a folder of the project (where the program's files are) and one elsewhere.
    const inProject = fs.mkdtempSync(path.join(path.dirname(CACHE), "fleet-load-"));
    try {
      for (const dir of [inProject, tempDir("fleet-load-")]) {
        const file = path.join(dir, "throws.ts");
        fs.writeFileSync(file, `interface Unused {\n  a: string;\n}\n\nconst why: string = "broken";\nthrow new Error(why);\n`);
        let child = { status: 0, stderr: "" };
        made.push(...madeBy(() => (child = run(process.execPath, ["-r", LOAD, file]))));
        assert.notEqual(child.status, 0);
        assert.ok(child.stderr.includes(`at Object.<anonymous> (${file}:6:7)`), child.stderr);
      }
    } finally {
      fs.rmSync(inProject, { recursive: true, force: true });
    }
  });

  it("is how Pulumi runs the program: program.js exports index.ts's program, with no compiler for the language host to load", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
    assert.equal(pkg.main, "program.js");
    assert.equal(YAML.parse(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8")).runtime.options.typescript, false);
    const child = run(process.execPath, ["-e", `const p = require("./program.js"); console.log(typeof p, p.length)`], { cwd: REPO });
    assert.equal(child.stdout, "function 0\n", child.stderr);
  });

  it("is how Pulumi runs the dynamic providers: Pulumi.yaml names plugins/, whose host serves the engine with no compiler loaded", async () => {
    // The engine's rule for a project plugin: the file pulumi-resource-<name> in the folder `path`
    // (relative to the project), run with the engine's address.
    const entry = (YAML.parse(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8")).plugins?.providers ?? []).find((p: { name: string }) => p.name === "pulumi-nodejs");
    assert.ok(entry, "Pulumi.yaml: plugins.providers has no entry for pulumi-nodejs, so the engine runs the CLI's own host");
    const host = path.join(REPO, entry.path, "pulumi-resource-pulumi-nodejs");
    fs.accessSync(host, fs.constants.X_OK);
    // A probe in the host's process reports, when asked to stop, whether the compiler was loaded.
    const probe = path.join(tempDir("fleet-load-"), "probe.js");
    fs.writeFileSync(probe, `process.on("SIGTERM", () => { process.stderr.write("heavy " + (${HEAVY})() + "\\n"); process.exit(0); });\n`);
    const child = spawn(host, ["127.0.0.1:1"], { cwd: REPO, env: { ...process.env, NODE_OPTIONS: `-r ${probe}` }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    try {
      const port = await new Promise<string>((resolve, reject) => {
        child.stdout.once("data", (d) => resolve(String(d).trim()));
        child.once("exit", (code) => reject(new Error(`the host exited (${code}) before it served: ${err}`)));
      });
      assert.match(port, /^\d+$/);
      // The engine's first question to a provider.
      const grpc = require("@grpc/grpc-js");
      const { ResourceProviderClient } = require("@pulumi/pulumi/proto/provider_grpc_pb");
      const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
      const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const version = await new Promise<string>((resolve, reject) => client.getPluginInfo(new Empty(), (e: Error | null, r: { getVersion(): string }) => (e ? reject(e) : resolve(r.getVersion()))));
      client.close();
      assert.equal(version, require("@pulumi/pulumi/package.json").version);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    assert.match(err, /^heavy false$/m, `the host loaded the closure serializer's compiler at its start: ${err}`);
  });
});
