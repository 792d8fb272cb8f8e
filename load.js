"use strict";
/**
 * How the project's TypeScript runs: requiring this file makes Node load every `.ts` file the
 * project requires from JavaScript transpiled once per content, kept in
 * `node_modules/.cache/fleet-js/`. The program (program.js, what Pulumi runs), the command line
 * (`npm run fleet`, `node -r ./load cli/main.ts`) and the dynamic providers' process load it.
 *
 * Why: ts-node transpiles every file again in every process, about 1 s for the program and as
 * much for the command line, on every `pulumi up`, preview and rollback; and with Pulumi's
 * `typescript: true` the language host loads the TypeScript compiler first (0.4 s) even when
 * nothing needs compiling. Here TypeScript is loaded only on a cache miss. A cached file is named
 * by the hash of what decides its output (its path, its text, tsconfig.json and the compiler's
 * version), so an edited file is transpiled again at once and there is no build step to forget.
 *
 * Like ts-node in transpile-only mode (tsconfig.json "ts-node"), it transpiles without type
 * checking: `npm run build` type-checks. Stack traces point at the TypeScript lines (inline
 * source maps).
 */
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const ROOT = __dirname;
const CACHE = path.join(ROOT, "node_modules", ".cache", "fleet-js");

const TSCONFIG = path.join(ROOT, "tsconfig.json");

/** tsconfig.json's text, read once. */
let tsconfig;
/** What every cached file's name depends on besides its own path and text. */
let salt;
/** The TypeScript compiler and the project's options, loaded on the first cache miss. */
let compiler;

function saltOnce() {
  if (salt === undefined) {
    const version = JSON.parse(fs.readFileSync(require.resolve("typescript/package.json", { paths: [ROOT] }), "utf8")).version;
    tsconfig ??= fs.readFileSync(TSCONFIG, "utf8");
    salt = `${version}\0${tsconfig}\0${JSON.stringify(EMIT)}`;
  }
  return salt;
}

/**
 * What this file changes of tsconfig.json's options (part of every cached file's name). The source
 * map is inline, and the JavaScript is placed beside its TypeScript (no outDir), so the map names
 * the file by its own name: with tsconfig's outDir it named it relative to that folder, and Node
 * put a stack trace's frames in a folder that does not exist.
 */
const EMIT = { sourceMap: false, inlineSourceMap: true, declaration: false, noEmit: false, outDir: null, rootDir: null };

function compilerOnce() {
  if (!compiler) {
    const ts = require(require.resolve("typescript", { paths: [ROOT] }));
    tsconfig ??= fs.readFileSync(TSCONFIG, "utf8");
    const read = ts.parseConfigFileTextToJson(TSCONFIG, tsconfig);
    if (read.error) throw new Error(`fleet: ${TSCONFIG}: ${ts.flattenDiagnosticMessageText(read.error.messageText, "\n")}`);
    const { options } = ts.convertCompilerOptionsFromJson(read.config.compilerOptions ?? {}, ROOT, TSCONFIG);
    const emit = Object.fromEntries(Object.entries(EMIT).map(([k, v]) => [k, v ?? undefined]));
    compiler = { ts, options: { ...options, ...emit } };
  }
  return compiler;
}

/** Where the cache keeps the JavaScript of the TypeScript `text` of `file` (an absolute path). */
function cachedPath(text, file) {
  const key = crypto.createHash("sha256").update(saltOnce()).update("\0").update(path.relative(ROOT, file)).update("\0").update(text).digest("hex");
  return path.join(CACHE, `${key}.js`);
}

/**
 * The JavaScript of the TypeScript `text` of `file` (an absolute path), from the cache, else
 * transpiled and cached. A cache that cannot be written (a read-only checkout) only costs time.
 */
function transpile(text, file) {
  const cached = cachedPath(text, file);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    // Not cached yet.
  }
  const { ts, options } = compilerOnce();
  const js = ts.transpileModule(text, { fileName: file, compilerOptions: options }).outputText;
  try {
    fs.mkdirSync(CACHE, { recursive: true });
    // Written whole, then renamed: another process never reads half a file.
    const part = `${cached}.${process.pid}.part`;
    fs.writeFileSync(part, js);
    fs.renameSync(part, cached);
  } catch {
    // Not cached: the next process transpiles it again.
  }
  return js;
}

/** Folders of the project whose TypeScript never goes through this file: the tests and the bench run on ts-node. */
const NOT_LOADED = new Set(["test", "bench"]);

/**
 * Transpiles every TypeScript file of the project this file loads (the program, the command line,
 * the dynamic providers) that the cache does not hold yet, and returns how many it transpiled.
 * `npm ci` (package.json "prepare") and `npm run up` run it, so no later command pays for the
 * compiler: the first `fleet rollback` after a checkout would otherwise load TypeScript to
 * transpile the command's own files.
 */
function warm(dir = ROOT) {
  let made = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const skipped = entry.name.startsWith(".") || entry.name === "node_modules" || (dir === ROOT && NOT_LOADED.has(entry.name));
    if (entry.isDirectory() && !skipped) made += warm(file);
    else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
      const text = fs.readFileSync(file, "utf8");
      if (!fs.existsSync(cachedPath(text, file))) {
        transpile(text, file);
        made += 1;
      }
    }
  }
  return made;
}

function loadTs(module, filename) {
  module._compile(transpile(fs.readFileSync(filename, "utf8"), filename), filename);
}

// Over ts-node, when a language host registered it first: the output is the same, without the work.
if (require.extensions[".ts"] !== loadTs) {
  require.extensions[".ts"] = loadTs;
  process.setSourceMapsEnabled(true);
}

/**
 * The Pulumi SDK's closure serializer, loaded when it is first called instead of when the SDK
 * starts. `@pulumi/pulumi/runtime/index.js` requires it on every start to re-export three
 * functions; it loads the TypeScript compiler (to parse function text) and npm's arborist (to find
 * a closure's packages), about 0.5 s of every program run and command. It turns function values
 * into code (`pulumi.dynamic.Resource`, `pulumi.runtime.serializeFunction`), which the fleet never
 * does: its dynamic resources name their provider instead (components/dynamic.ts). Anything else
 * that asks for the serializer, or a call to one of those functions, loads the real module.
 */
const DEFERRED = {
  "./closure/serializeClosure": ["serializeFunctionAsync", "serializeFunction"],
  "./closure/codePaths": ["computeCodePaths"],
};
const SDK_RUNTIME = path.join("@pulumi", "pulumi", "runtime", "index.js");
const Module = require("module");
const loadModule = Module._load;

/** Stands in for the module `request` of `parent`: each of `names` loads it when first called. */
function deferred(request, parent, names) {
  let real;
  const load = () => (real ??= loadModule(request, parent, false));
  return Object.fromEntries(names.map((name) => [name, function (...args) { return load()[name].apply(this, args); }]));
}

if (Module._load.fleetDeferred === undefined) {
  const patched = function (request, parent, isMain) {
    const names = DEFERRED[request];
    if (names && parent && parent.filename && parent.filename.endsWith(SDK_RUNTIME)) return deferred(request, parent, names);
    return loadModule.call(this, request, parent, isMain);
  };
  patched.fleetDeferred = true;
  Module._load = patched;
}

/**
 * The dynamic provider `exportName` of the project file `file` (relative to the project, without
 * `.ts`): what the one-line provider module of components/dynamic.ts hands over to.
 */
function provider(file, exportName) {
  return require(path.join(ROOT, "components", "dynamic")).loadProvider(file, exportName);
}

module.exports = { CACHE, transpile, provider, warm };

// `node load.js --warm`: fills the cache (see warm).
if (require.main === module && process.argv[2] === "--warm") {
  const made = warm();
  if (made) console.log(`fleet: transpiled ${made} TypeScript file(s) into ${path.relative(process.cwd(), CACHE) || CACHE}`);
}
