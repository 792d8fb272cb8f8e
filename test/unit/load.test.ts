import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { run } from "../../proc";
import { REPO, tempDir } from "../support/project";

const LOAD = path.join(REPO, "load.js");
const { CACHE, transpile } = require(LOAD) as { CACHE: string; transpile: (text: string, file: string) => string };

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

  it("points a thrown error at the TypeScript file and line", () => {
    const file = path.join(tempDir("fleet-load-"), "throws.ts");
    fs.writeFileSync(file, `interface Unused {\n  a: string;\n}\n\nconst why: string = "broken";\nthrow new Error(why);\n`);
    let child = { status: 0, stderr: "" };
    made.push(...madeBy(() => (child = run(process.execPath, ["-r", LOAD, file]))));
    assert.notEqual(child.status, 0);
    assert.match(child.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:6\\b`), child.stderr);
  });

  it("is how Pulumi runs the program: program.js exports index.ts's program, with no compiler for the language host to load", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
    assert.equal(pkg.main, "program.js");
    assert.equal(YAML.parse(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8")).runtime.options.typescript, false);
    const child = run(process.execPath, ["-e", `const p = require("./program.js"); console.log(typeof p, p.length)`], { cwd: REPO });
    assert.equal(child.stdout, "function 0\n", child.stderr);
  });
});
