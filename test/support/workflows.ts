import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import { createRequire } from "module";
import * as path from "path";
import * as util from "util";
import YAML from "yaml";
import { run } from "../../proc";

/**
 * A local runner for this project's GitHub Actions workflows: one job's steps, in order, on this
 * machine, as a self-hosted runner would run them. The rules follow GitHub's documentation
 * (https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions, "Contexts",
 * "Expressions", "Store information in variables") and the sources of actions/runner,
 * actions/checkout@v4 and actions/github-script@v7; each rule below names where it comes from.
 *
 * What GitHub does and this runner does not: scheduling (`needs`, `concurrency`, `runs-on` labels,
 * `environment` approvals and `permissions` are evaluated and returned, not enforced), matrix
 * expansion (the caller picks one combination), downloading actions (only the ones in KNOWN_ACTIONS
 * run; any other `uses:` is an error before the first step), secrets' and tokens' scopes, and
 * workflow commands printed on stdout (`::error::` and the like stay in the step's stdout).
 */

/** The events this project's workflows run on. */
export type EventName = "pull_request" | "push" | "schedule" | "workflow_dispatch";

/** What `runJob` runs, where, and with what. */
export interface RunJobOptions {
  /** The workflow file, e.g. `<clone>/.github/workflows/ci.yml`. */
  readonly workflowFile: string;
  /** The job's id under `jobs:`. */
  readonly job: string;
  /** The one matrix combination to run (`strategy.matrix` is not expanded here). Defaults to none. */
  readonly matrix?: Readonly<Record<string, string>>;
  /** The event that triggered the run, and its webhook payload (`github.event`). */
  readonly event: { readonly name: EventName; readonly payload: object };
  /** The repository the checkout fetches from (a git repo path), and the event's commit and ref. */
  readonly repo: { readonly origin: string; readonly sha: string; readonly ref: string };
  /** GITHUB_WORKSPACE: the runner's work folder for this job, reused across runs like `_work/<repo>/<repo>`. */
  readonly workspace: string;
  /** RUNNER_TEMP, emptied at the start and end of the job as the runner does. Defaults to `<workspace>/../_temp`. */
  readonly runnerTemp?: string;
  /** The runner machine's environment (HOME, PATH, ...): what the runner service itself runs with. */
  readonly env: NodeJS.ProcessEnv;
  /** The repository's and environment's secrets; a missing one is the empty string, as on GitHub. */
  readonly secrets: Readonly<Record<string, string>>;
  /** The repository's configuration variables (`vars`); a missing one is the empty string. */
  readonly vars: Readonly<Record<string, string>>;
  /** The GitHub API stand-in github-script steps talk to, and the repository's name. */
  readonly github: GitHubStandIn;
  /** The jobs this one needs, as they ended (`needs` context). Defaults to each needed job succeeded with no outputs. */
  readonly needs?: Readonly<Record<string, { readonly result: string; readonly outputs: Readonly<Record<string, string>> }>>;
  /** Called after each step, e.g. to append it to a log. Defaults to nothing. */
  readonly onStep?: (step: StepResult) => void;
}

/** One step as it ran. */
export interface StepResult {
  readonly name: string;
  readonly id?: string;
  readonly uses?: string;
  readonly run?: string;
  /** The step's own result (`steps.<id>.outcome`). */
  readonly outcome: "success" | "failure" | "skipped";
  /** The result after `continue-on-error` (`steps.<id>.conclusion`). */
  readonly conclusion: "success" | "failure" | "skipped";
  /** What the step printed, with the secrets' values masked as `***` as in GitHub's log. */
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  readonly outputs: Readonly<Record<string, string>>;
  /** What the runner did instead of the action (setup-* actions use what the machine has). */
  readonly note?: string;
}

/** One job as it ran, with what GitHub would have scheduled it by (recorded, not enforced). */
export interface JobResult {
  readonly status: "success" | "failure" | "skipped";
  readonly steps: readonly StepResult[];
  /** The job's `outputs:`, evaluated after its steps. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly name: string;
  readonly runsOn: unknown;
  readonly environment?: unknown;
  readonly concurrency?: unknown;
  readonly needs: readonly string[];
  readonly permissions?: unknown;
}

// ---------------------------------------------------------------------------------------------
// Expressions (https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/evaluate-expressions-in-workflows-and-actions)

type Node =
  | { readonly t: "lit"; readonly v: unknown }
  | { readonly t: "ctx"; readonly name: string }
  | { readonly t: "prop"; readonly obj: Node; readonly key: Node | "*" }
  | { readonly t: "not"; readonly e: Node }
  | { readonly t: "bin"; readonly op: string; readonly l: Node; readonly r: Node }
  | { readonly t: "call"; readonly name: string; readonly args: readonly Node[] };

interface Token {
  readonly kind: "num" | "str" | "id" | "op" | "end";
  readonly text: string;
  readonly value?: unknown;
}

/** The result of a `.*` filter: property access maps over its items. */
class Filtered extends Array<unknown> {}

const STATUS_FUNCTIONS = ["success", "failure", "always", "cancelled"];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const valueBefore = () => {
    const last = out[out.length - 1];
    return last !== undefined && (last.kind !== "op" || last.text === ")" || last.text === "]");
  };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      // Strings are single-quoted; '' is a quote (docs: "Literals").
      let s = "";
      i++;
      for (;;) {
        if (i >= src.length) throw new Error(`Unexpected end of expression: unterminated string in: ${src}`);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += src[i++];
      }
      out.push({ kind: "str", text: s, value: s });
      continue;
    }
    const num = /^(?:0x[0-9a-fA-F]+|0o[0-7]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(src.slice(i + (c === "-" && !valueBefore() ? 1 : 0)));
    if (num && (/[\d.]/.test(c) || (c === "-" && !valueBefore()))) {
      const neg = c === "-";
      const text = num[0];
      const v = text.startsWith("0o") ? parseInt(text.slice(2), 8) : Number(text);
      out.push({ kind: "num", text: (neg ? "-" : "") + text, value: neg ? -v : v });
      i += text.length + (neg ? 1 : 0);
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i));
    if (id) {
      out.push({ kind: "id", text: id[0] });
      i += id[0].length;
      continue;
    }
    const op = ["==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", ".", ",", "!", "<", ">", "*"].find((o) => src.startsWith(o, i));
    if (!op) throw new Error(`Unexpected symbol: '${c}' at position ${i + 1} of: ${src}`);
    out.push({ kind: "op", text: op });
    i += op.length;
  }
  out.push({ kind: "end", text: "" });
  return out;
}

/** Parses one expression (the text between `${{` and `}}`, or a bare `if:`). */
export function parseExpression(src: string): Node {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const isOp = (...ops: string[]) => peek().kind === "op" && ops.includes(peek().text);
  const expect = (op: string) => {
    if (!isOp(op)) throw new Error(`Expected '${op}' but found '${peek().text || "end"}' in: ${src}`);
    p++;
  };
  // Precedence, highest first (docs: "Operators"): ( ) [ ] . ; ! ; < <= > >= ; == != ; && ; ||
  const or = (): Node => {
    let l = and();
    while (isOp("||")) {
      p++;
      l = { t: "bin", op: "||", l, r: and() };
    }
    return l;
  };
  const and = (): Node => {
    let l = eq();
    while (isOp("&&")) {
      p++;
      l = { t: "bin", op: "&&", l, r: eq() };
    }
    return l;
  };
  const eq = (): Node => {
    let l = rel();
    while (isOp("==", "!=")) {
      const op = toks[p++].text;
      l = { t: "bin", op, l, r: rel() };
    }
    return l;
  };
  const rel = (): Node => {
    let l = unary();
    while (isOp("<", "<=", ">", ">=")) {
      const op = toks[p++].text;
      l = { t: "bin", op, l, r: unary() };
    }
    return l;
  };
  const unary = (): Node => {
    if (isOp("!")) {
      p++;
      return { t: "not", e: unary() };
    }
    return postfix();
  };
  const postfix = (): Node => {
    let n = primary();
    for (;;) {
      if (isOp(".")) {
        p++;
        const t = toks[p++];
        if (t.kind === "op" && t.text === "*") n = { t: "prop", obj: n, key: "*" };
        else if (t.kind === "id" || t.kind === "num") n = { t: "prop", obj: n, key: { t: "lit", v: t.text } };
        else throw new Error(`Expected a property name after '.' in: ${src}`);
      } else if (isOp("[")) {
        p++;
        const key: Node | "*" = isOp("*") ? (p++, "*") : or();
        expect("]");
        n = { t: "prop", obj: n, key };
      } else return n;
    }
  };
  const primary = (): Node => {
    const t = toks[p++];
    if (t.kind === "num" || t.kind === "str") return { t: "lit", v: t.value };
    if (t.kind === "op" && t.text === "(") {
      const e = or();
      expect(")");
      return e;
    }
    if (t.kind === "id") {
      const lower = t.text.toLowerCase();
      if (isOp("(")) {
        p++;
        const args: Node[] = [];
        if (!isOp(")")) {
          args.push(or());
          while (isOp(",")) {
            p++;
            args.push(or());
          }
        }
        expect(")");
        return { t: "call", name: lower, args };
      }
      if (lower === "true" || lower === "false") return { t: "lit", v: lower === "true" };
      if (lower === "null") return { t: "lit", v: null };
      if (t.text === "NaN") return { t: "lit", v: NaN };
      if (t.text === "Infinity") return { t: "lit", v: Infinity };
      return { t: "ctx", name: lower };
    }
    throw new Error(`Unexpected '${t.text || "end of expression"}' in: ${src}`);
  };
  const node = or();
  if (peek().kind !== "end") throw new Error(`Unexpected '${peek().text}' in: ${src}`);
  return node;
}

/** Contexts by name, functions the place allows, and the job's status so far. */
export interface ExpressionScope {
  readonly contexts: Readonly<Record<string, unknown>>;
  /** The job's state for success()/failure(). Defaults to no failure so far. */
  readonly failed?: boolean;
  /** hashFiles' root, where the place allows it (steps only). Defaults to hashFiles unavailable. */
  readonly workspace?: string;
  /** Whether status functions are allowed (`if:` only). Defaults to false. */
  readonly statusFunctions?: boolean;
}

/** Docs "Operators": the falsy values are false, 0, -0, "", null and NaN. */
export function truthy(v: unknown): boolean {
  return !(v === false || v === null || v === undefined || v === 0 || v === "" || (typeof v === "number" && Number.isNaN(v)));
}

/** Docs "Operators": null 0, true 1, false 0, a string as a JSON number ('' is 0) else NaN, objects NaN. */
function toNumber(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const s = v.trim();
    if (s === "") return 0;
    if (/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s) || /^0x[0-9a-f]+$/i.test(s)) return Number(s);
    if (/^0o[0-7]+$/i.test(s)) return parseInt(s.slice(2), 8);
    return NaN;
  }
  return NaN;
}

const kind = (v: unknown) => (v === null || v === undefined ? "null" : Array.isArray(v) ? "array" : typeof v);

/** Docs "Operators": loose equality; strings ignore case; different types compare as numbers. */
function looseEquals(a: unknown, b: unknown): boolean {
  const [ka, kb] = [kind(a), kind(b)];
  if (ka === kb) {
    if (ka === "string") return (a as string).toUpperCase() === (b as string).toUpperCase();
    if (ka === "null") return true;
    return a === b;
  }
  if (ka === "object" || ka === "array" || kb === "object" || kb === "array") return false;
  return toNumber(a) === toNumber(b);
}

function compare(op: string, a: unknown, b: unknown): boolean {
  let x: number | string;
  let y: number | string;
  if (typeof a === "string" && typeof b === "string") [x, y] = [a.toUpperCase(), b.toUpperCase()];
  else [x, y] = [toNumber(a), toNumber(b)];
  if (typeof x === "number" && (Number.isNaN(x) || Number.isNaN(y as number))) return false;
  switch (op) {
    case "<":
      return x < y;
    case "<=":
      return x <= y;
    case ">":
      return x > y;
    default:
      return x >= y;
  }
}

/** A property, ignoring case as GitHub's contexts do; missing is null. */
function property(obj: unknown, key: unknown): unknown {
  if (obj instanceof Filtered) return Filtered.from(obj.map((o) => property(o, key)).filter((v) => v !== null)) as Filtered;
  if (obj === null || typeof obj !== "object") return null;
  if (Array.isArray(obj)) {
    const n = toNumber(key);
    return Number.isInteger(n) && n >= 0 && n < obj.length ? obj[n] : null;
  }
  const k = String(key);
  const rec = obj as Record<string, unknown>;
  if (k in rec) return rec[k] ?? null;
  const found = Object.keys(rec).find((o) => o.toLowerCase() === k.toLowerCase());
  return found === undefined ? null : (rec[found] ?? null);
}

/** Docs: converting an expression's value to a string: null '', booleans and numbers as written, objects 'Object'/'Array'. */
export function toText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean" || typeof v === "number") return String(v);
  return Array.isArray(v) ? "Array" : "Object";
}

function containsStatusFunction(n: Node): boolean {
  switch (n.t) {
    case "call":
      return STATUS_FUNCTIONS.includes(n.name) || n.args.some(containsStatusFunction);
    case "bin":
      return containsStatusFunction(n.l) || containsStatusFunction(n.r);
    case "not":
      return containsStatusFunction(n.e);
    case "prop":
      return containsStatusFunction(n.obj) || (n.key !== "*" && containsStatusFunction(n.key));
    default:
      return false;
  }
}

/** Evaluates a parsed expression. */
export function evaluateNode(n: Node, scope: ExpressionScope): unknown {
  const ev = (x: Node) => evaluateNode(x, scope);
  switch (n.t) {
    case "lit":
      return n.v;
    case "ctx":
      if (!(n.name in scope.contexts)) throw new Error(`Unrecognized named-value: '${n.name}'. Available here: ${Object.keys(scope.contexts).join(", ")}`);
      return scope.contexts[n.name] ?? null;
    case "prop": {
      const obj = ev(n.obj);
      if (n.key === "*") {
        if (obj === null || typeof obj !== "object") return Filtered.from([]);
        return Filtered.from(Array.isArray(obj) ? obj : Object.values(obj as object));
      }
      return property(obj, ev(n.key));
    }
    case "not":
      return !truthy(ev(n.e));
    case "bin": {
      const l = ev(n.l);
      // && and || return an operand, not a boolean, and short-circuit (docs: "Operators").
      if (n.op === "&&") return truthy(l) ? ev(n.r) : l;
      if (n.op === "||") return truthy(l) ? l : ev(n.r);
      const r = ev(n.r);
      if (n.op === "==") return looseEquals(l, r);
      if (n.op === "!=") return !looseEquals(l, r);
      return compare(n.op, l, r);
    }
    case "call":
      return callFunction(n.name, n.args.map(ev), scope);
  }
}

function callFunction(name: string, args: unknown[], scope: ExpressionScope): unknown {
  const arity = (min: number, max = min) => {
    if (args.length < min || args.length > max) throw new Error(`${name}() takes ${min === max ? min : `${min} to ${max}`} arguments; got ${args.length}`);
  };
  if (STATUS_FUNCTIONS.includes(name)) {
    if (!scope.statusFunctions) throw new Error(`Unrecognized function: '${name}' (status functions are only allowed in if:)`);
    arity(0);
    // cancelled(): nothing cancels a local run.
    return { success: !scope.failed, failure: !!scope.failed, always: true, cancelled: false }[name];
  }
  switch (name) {
    case "contains": {
      arity(2);
      const [hay, item] = args;
      if (Array.isArray(hay)) return hay.some((h) => looseEquals(h, item));
      return toText(hay).toUpperCase().includes(toText(item).toUpperCase());
    }
    case "startswith":
      arity(2);
      return toText(args[0]).toUpperCase().startsWith(toText(args[1]).toUpperCase());
    case "endswith":
      arity(2);
      return toText(args[0]).toUpperCase().endsWith(toText(args[1]).toUpperCase());
    case "format": {
      if (args.length < 1) arity(1, Infinity);
      return toText(args[0]).replace(/\{\{|\}\}|\{(\d+)\}/g, (m, i) => (m === "{{" ? "{" : m === "}}" ? "}" : toText(args[1 + Number(i)])));
    }
    case "join": {
      arity(1, 2);
      const sep = args.length > 1 ? toText(args[1]) : ",";
      return Array.isArray(args[0]) ? args[0].map(toText).join(sep) : toText(args[0]);
    }
    case "tojson":
      arity(1);
      return JSON.stringify(args[0] ?? null, null, 2);
    case "fromjson":
      arity(1);
      return JSON.parse(toText(args[0]));
    case "hashfiles":
      if (scope.workspace === undefined) throw new Error("Unrecognized function: 'hashFiles' (only steps may call it)");
      return hashFiles(scope.workspace, args.map(toText));
    default:
      throw new Error(`Unrecognized function: '${name}'`);
  }
}

/** Evaluates one expression's text. */
export function evaluate(src: string, scope: ExpressionScope): unknown {
  return evaluateNode(parseExpression(src), scope);
}

/** The `${{ }}` spans of a template: [start, end, expression] with `}}` inside strings skipped. */
function spans(text: string): [number, number, string][] {
  const out: [number, number, string][] = [];
  let i = text.indexOf("${{");
  while (i >= 0) {
    let j = i + 3;
    let inString = false;
    for (; j < text.length; j++) {
      if (text[j] === "'") inString = !inString;
      else if (!inString && text.startsWith("}}", j)) break;
    }
    if (j >= text.length) throw new Error(`An expression is not closed with }}: ${text}`);
    out.push([i, j + 2, text.slice(i + 3, j)]);
    i = text.indexOf("${{", j + 2);
  }
  return out;
}

/** Replaces each `${{ expr }}` of a string with its value as text. */
export function interpolate(text: string, scope: ExpressionScope): string {
  let out = "";
  let at = 0;
  for (const [start, end, expr] of spans(text)) {
    out += text.slice(at, start) + toText(evaluate(expr, scope));
    at = end;
  }
  return out + text.slice(at);
}

/** Interpolates every string of a YAML value (runs-on, environment, concurrency, with, env). */
function interpolateDeep(v: unknown, scope: ExpressionScope): unknown {
  if (typeof v === "string") return interpolate(v, scope);
  if (Array.isArray(v)) return v.map((x) => interpolateDeep(x, scope));
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateDeep(x, scope)]));
  return v;
}

/**
 * An `if:` condition. Docs ("jobs.<job_id>.steps[*].if"): `${{ }}` may be left out; a condition
 * with no status function is `success() && (condition)`; a missing one is `success()`.
 */
export function condition(src: string | boolean | undefined, scope: ExpressionScope): boolean {
  if (src === undefined || src === null) return !scope.failed;
  const s = String(src).trim();
  const only = spans(s);
  let node: Node;
  if (only.length === 1 && only[0][0] === 0 && only[0][1] === s.length) node = parseExpression(only[0][2]);
  // Text around an expression makes the whole a (non-empty, so true) string, as on GitHub.
  else if (only.length > 0) return truthy(interpolate(s, { ...scope, statusFunctions: true }));
  else node = parseExpression(s);
  if (!containsStatusFunction(node)) node = { t: "bin", op: "&&", l: { t: "call", name: "success", args: [] }, r: node };
  return truthy(evaluateNode(node, { ...scope, statusFunctions: true }));
}

// ---------------------------------------------------------------------------------------------
// hashFiles (actions/runner src/Misc/expressionFunc/hashFiles: @actions/glob in the workspace,
// directories expanded to their files, the SHA-256 of each file's SHA-256 in order; '' if none)

function globRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      const slash = pattern[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i);
      if (end < 0) re += "\\[";
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The files at or under `rel`, following symbolic links (each real folder once, so a loop ends). */
function filesUnder(root: string, rel: string, seen = new Set<string>()): string[] {
  const full = path.join(root, rel);
  let st: fs.Stats;
  try {
    st = fs.statSync(full);
  } catch {
    return [];
  }
  if (!st.isDirectory()) return [rel];
  const real = fs.realpathSync(full);
  if (seen.has(real)) return [];
  seen.add(real);
  return fs.readdirSync(full).flatMap((e) => filesUnder(root, rel ? `${rel}/${e}` : e, seen));
}

/** hashFiles(patterns...) over `workspace`: a SHA-256 when any file matches, '' otherwise. */
export function hashFiles(workspace: string, patterns: readonly string[]): string {
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  const roots = new Set<string>();
  for (const raw of patterns.flatMap((p) => p.split("\n")).map((p) => p.trim()).filter(Boolean)) {
    const neg = raw.startsWith("!");
    const p = path.posix.normalize((neg ? raw.slice(1) : raw).replace(/^\.\//, ""));
    if (path.isAbsolute(p) || p.startsWith("..")) continue; // only files under the workspace count
    (neg ? exclude : include).push(globRegex(p));
    if (!neg) {
      const literal = p.split("/").filter((_, i, segs) => !segs.slice(0, i + 1).some((s) => /[*?[]/.test(s)));
      // Walk from the pattern's literal part: a literal pattern is one path, not the whole workspace.
      roots.add(literal.join("/"));
    }
  }
  // A directory that matches brings its files (@actions/glob's implicitDescendants).
  const matches = (rel: string, res: RegExp[]) => res.some((re) => rel.split("/").some((_, i, segs) => re.test(segs.slice(0, i + 1).join("/"))));
  const files = new Set<string>();
  for (const root of roots) for (const f of filesUnder(workspace, root === "." ? "" : root)) if (matches(f, include) && !exclude.some((re) => re.test(f))) files.add(f);
  if (files.size === 0) return "";
  const result = crypto.createHash("sha256");
  for (const f of [...files].sort()) result.update(crypto.createHash("sha256").update(fs.readFileSync(path.join(workspace, f))).digest());
  return result.digest("hex");
}

// ---------------------------------------------------------------------------------------------
// The GitHub API stand-in

/** An issue or pull request comment, as the REST API returns it. */
export interface Comment {
  id: number;
  issue_number: number;
  body: string;
  user: { login: string; type: "Bot" | "User" };
  created_at: string;
  updated_at: string;
}

/** An issue, as the REST API returns it. */
export interface Issue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: { name: string }[];
  user: { login: string; type: "Bot" | "User" };
}

type Params = Record<string, unknown>;
type Endpoint = (params: Params) => Promise<{ status: number; data: unknown }>;

/**
 * What github-script's `github` talks to: `rest.issues.*` and `paginate` over an in-memory store
 * of comments and issues that a test fills and reads; every REST call is recorded in `calls`.
 * Writes are by the workflow's token, so they are a Bot's (`github-actions[bot]`).
 */
export class GitHubStandIn {
  /** `owner/name`: github.repository. */
  readonly repository: string;
  readonly serverUrl: string;
  readonly runId: number;
  readonly actor: string;
  readonly comments: Comment[] = [];
  readonly issues: Issue[] = [];
  readonly calls: { method: string; params: Params }[] = [];
  private nextId = 1000;
  private nextNumber = 1;

  constructor(opts: { repository: string; serverUrl?: string; runId?: number; actor?: string; firstIssueNumber?: number }) {
    this.repository = opts.repository;
    this.serverUrl = opts.serverUrl ?? "https://github.com";
    this.runId = opts.runId ?? 1;
    this.actor = opts.actor ?? "octocat";
    this.nextNumber = opts.firstIssueNumber ?? 1;
  }

  /** A comment already on an issue or pull request (a test's pre-fill). Defaults to a Bot's. */
  addComment(issue_number: number, body: string, user: Comment["user"] = { login: "github-actions[bot]", type: "Bot" }): Comment {
    const now = new Date().toISOString();
    const c = { id: this.nextId++, issue_number, body, user, created_at: now, updated_at: now };
    this.comments.push(c);
    return c;
  }

  /** An issue already open (a test's pre-fill). */
  addIssue(title: string, body: string, labels: string[] = [], state: Issue["state"] = "open"): Issue {
    const issue = { number: this.nextNumber++, title, body, state, labels: labels.map((name) => ({ name })), user: { login: "octocat", type: "User" as const } };
    this.issues.push(issue);
    return issue;
  }

  private endpoint(method: string, fn: (p: Params) => unknown): Endpoint {
    return async (params: Params) => {
      this.calls.push({ method, params: { ...params } });
      if (`${params.owner}/${params.repo}` !== this.repository) throw Object.assign(new Error(`Not Found: ${method} on ${params.owner}/${params.repo} (this stand-in is ${this.repository})`), { status: 404 });
      return { status: method.startsWith("issues.create") ? 201 : 200, data: fn(params) };
    };
  }

  private page<T>(items: T[], p: Params): T[] {
    const perPage = Number(p.per_page ?? 30);
    const page = Number(p.page ?? 1);
    return items.slice((page - 1) * perPage, page * perPage);
  }

  private comment(id: unknown): Comment {
    const c = this.comments.find((x) => x.id === Number(id));
    if (!c) throw Object.assign(new Error(`Not Found: comment ${id}`), { status: 404 });
    return c;
  }

  readonly rest = {
    issues: {
      listComments: this.endpoint("issues.listComments", (p) => this.page(this.comments.filter((c) => c.issue_number === Number(p.issue_number)), p)),
      createComment: this.endpoint("issues.createComment", (p) => this.addComment(Number(p.issue_number), String(p.body))),
      updateComment: this.endpoint("issues.updateComment", (p) => Object.assign(this.comment(p.comment_id), { body: String(p.body), updated_at: new Date().toISOString() })),
      listForRepo: this.endpoint("issues.listForRepo", (p) => {
        const state = String(p.state ?? "open");
        const labels = p.labels ? String(p.labels).split(",").map((l) => l.trim()) : [];
        return this.page(
          this.issues.filter((i) => (state === "all" || i.state === state) && labels.every((l) => i.labels.some((x) => x.name === l))),
          p,
        );
      }),
      create: this.endpoint("issues.create", (p) => this.addIssue(String(p.title), String(p.body ?? ""), ((p.labels as string[]) ?? []).map(String))),
    },
  };

  /** octokit's paginate: every page of a list endpoint, concatenated. */
  readonly paginate = async (fn: Endpoint, params: Params = {}): Promise<unknown[]> => {
    const perPage = Number(params.per_page ?? 30);
    const all: unknown[] = [];
    for (let page = 1; ; page++) {
      const { data } = await fn({ ...params, per_page: perPage, page });
      const items = data as unknown[];
      all.push(...items);
      if (items.length < perPage) return all;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Workflow files

/** The actions this runner knows, by name without the version. */
export const KNOWN_ACTIONS = ["actions/checkout", "actions/setup-node", "actions/setup-go", "actions/setup-python", "actions/github-script"];
const STEP_KEYS = ["id", "name", "if", "uses", "with", "run", "env", "working-directory", "shell", "continue-on-error", "timeout-minutes"];
const JOB_KEYS = ["name", "runs-on", "needs", "if", "strategy", "permissions", "env", "environment", "concurrency", "steps", "outputs", "timeout-minutes", "defaults"];
const CHECKOUT_INPUTS = ["ref", "fetch-depth", "clean"];
const SCRIPT_INPUTS = ["script", "result-encoding", "github-token", "debug", "retries"];

interface StepSpec {
  id?: string;
  name?: string;
  if?: string | boolean;
  uses?: string;
  with?: Record<string, unknown>;
  run?: string;
  env?: Record<string, unknown>;
  "working-directory"?: string;
  shell?: string;
  "continue-on-error"?: boolean | string;
  "timeout-minutes"?: number | string;
}

interface JobSpec {
  name?: string;
  "runs-on"?: unknown;
  needs?: string | string[];
  if?: string | boolean;
  strategy?: { matrix?: Record<string, unknown> };
  permissions?: unknown;
  env?: Record<string, unknown>;
  environment?: unknown;
  concurrency?: unknown;
  steps?: StepSpec[];
  outputs?: Record<string, string>;
  "timeout-minutes"?: number | string;
  defaults?: { run?: { shell?: string; "working-directory"?: string } };
}

interface WorkflowSpec {
  name?: string;
  on: unknown;
  env?: Record<string, unknown>;
  defaults?: { run?: { shell?: string; "working-directory"?: string } };
  jobs: Record<string, JobSpec>;
}

function readWorkflow(file: string): WorkflowSpec {
  const wf = YAML.parse(fs.readFileSync(file, "utf8")) as WorkflowSpec;
  if (!wf || typeof wf !== "object" || !wf.jobs) throw new Error(`${file}: not a workflow (no jobs:)`);
  return wf;
}

/** The action's name without `@version`. */
function actionName(uses: string): string {
  return uses.split("@")[0];
}

/** The shell command for a run step (actions/runner ScriptHandler and ScriptHandlerHelpers). */
function shellCommand(shell: string | undefined): string[] {
  // No shell: `bash -e {0}` (sh's arguments run by bash); `shell: bash` adds pipefail. Docs,
  // "jobs.<job_id>.steps[*].shell", and actions/runner#1955.
  if (shell === undefined) return ["bash", "-e", "{0}"];
  if (shell === "bash") return ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"];
  if (shell === "sh") return ["sh", "-e", "{0}"];
  if (shell.includes("{0}")) return shell.trim().split(/\s+/);
  throw new Error(`shell: ${shell} is not mirrored (bash, sh or a template with {0})`);
}

/** What in a workflow this runner cannot run: one line per step or job key; empty when it runs all. */
export function unsupported(workflowFile: string): string[] {
  const wf = readWorkflow(workflowFile);
  const name = path.basename(workflowFile);
  const problems: string[] = [];
  for (const [jobId, job] of Object.entries(wf.jobs)) {
    for (const k of Object.keys(job)) if (!JOB_KEYS.includes(k)) problems.push(`${name}: job ${jobId}: \`${k}:\` is not mirrored by test/support/workflows.ts`);
    (job.steps ?? []).forEach((step, i) => {
      const where = `${name}: job ${jobId}, step ${i + 1} (${step.name ?? step.uses ?? step.run?.split("\n")[0]})`;
      for (const k of Object.keys(step)) if (!STEP_KEYS.includes(k)) problems.push(`${where}: \`${k}:\` is not mirrored`);
      if ((step.uses === undefined) === (step.run === undefined)) problems.push(`${where}: a step has exactly one of uses: and run:`);
      if (step.uses !== undefined) {
        const action = actionName(step.uses);
        if (!KNOWN_ACTIONS.includes(action)) problems.push(`${where}: the action ${step.uses} is not one this runner knows (${KNOWN_ACTIONS.join(", ")}); add it to test/support/workflows.ts`);
        const allowed = action === "actions/checkout" ? CHECKOUT_INPUTS : action === "actions/github-script" ? SCRIPT_INPUTS : undefined;
        for (const k of Object.keys(step.with ?? {})) if (allowed && !allowed.includes(k)) problems.push(`${where}: ${action}'s input \`${k}\` is not mirrored`);
        if (action === "actions/github-script" && !step.with?.script) problems.push(`${where}: github-script without a script`);
      }
      if (step.shell !== undefined) {
        try {
          shellCommand(step.shell);
        } catch (e) {
          problems.push(`${where}: ${(e as Error).message}`);
        }
      }
    });
  }
  return problems;
}

/** The events a workflow's `on:` names, with their filters. */
function triggers(on: unknown): Record<string, Record<string, unknown> | null> {
  if (typeof on === "string") return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [String(e), null]));
  return (on ?? {}) as Record<string, Record<string, unknown> | null>;
}

/** A branch filter's glob (docs: "Filter pattern cheat sheet"): * is not /, ** is anything. */
function branchMatches(pattern: string, branch: string): boolean {
  return globRegex(pattern).test(branch);
}

// ---------------------------------------------------------------------------------------------
// Running a job

/** Parses GITHUB_OUTPUT / GITHUB_ENV: `name=value` lines and `name<<DELIMITER` blocks (docs: "Multiline strings"). */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, "");
    if (line === "") continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    const eq = line.indexOf("=");
    if (heredoc && (eq < 0 || heredoc[1].length < eq)) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i].replace(/\r$/, "") !== heredoc[2]; i++) value.push(lines[i]);
      if (i >= lines.length) throw new Error(`Matching delimiter not found '${heredoc[2]}'`);
      out[heredoc[1]] = value.join("\n");
    } else if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
    else throw new Error(`Invalid format '${line}'`);
  }
  return out;
}

interface Spawned {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs a command in its own process group (so a timeout ends the whole tree), capturing its output. */
function spawnCapture(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Spawned> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    };
    // On a timeout the runner sends SIGINT, then SIGTERM after 7.5 s (actions/runner ProcessInvoker).
    const timer = setTimeout(() => {
      timedOut = true;
      kill("SIGINT");
      setTimeout(() => kill("SIGTERM"), 7500).unref();
    }, opts.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ status: -1, stdout, stderr: stderr + e.message, timedOut });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal ? 128 : -1), stdout, stderr, timedOut });
    });
  });
}

function git(args: string[], cwd: string, env: NodeJS.ProcessEnv, log: string[]): void {
  log.push(`[command]git ${args.join(" ")}`);
  const r = run("git", args, { cwd, env: { ...env, GIT_TERMINAL_PROMPT: "0" } });
  if (r.stdout) log.push(r.stdout.trimEnd());
  if (r.stderr) log.push(r.stderr.trimEnd());
  // A git that could not start has status -1 and node's reason last on stderr.
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} exited ${r.status === -1 ? r.stderr.trimEnd().split("\n").pop() : r.status}`);
}

function gitOut(args: string[], cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  const r = run("git", args, { cwd, env });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function emptyDir(dir: string): void {
  for (const e of fs.readdirSync(dir)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
}

/**
 * actions/checkout@v4 (src/git-source-provider.ts, src/ref-helper.ts), for a repository on disk:
 * an existing checkout of the same remote is cleaned (`git clean -ffdx`, `git reset --hard HEAD`),
 * anything else in the folder is removed; then init, `fetch --depth=<fetch-depth, 1>` of the
 * event's commit (or `with.ref`) into the refspec the action uses, and a forced checkout.
 * Fetching a commit by its sha works because git's protocol v2, which the action asks for, serves
 * any object the origin has, as GitHub does for a reachable commit; the origin is not changed.
 */
function checkoutAction(workspace: string, origin: string, eventRef: string, eventSha: string, inputs: Record<string, string>, env: NodeJS.ProcessEnv): { log: string[]; outputs: Record<string, string> } {
  const log: string[] = [];
  const url = `file://${path.resolve(origin)}`;
  fs.mkdirSync(workspace, { recursive: true });
  const clean = (inputs.clean ?? "true") !== "false";
  if (fs.existsSync(path.join(workspace, ".git")) && gitOut(["config", "--local", "--get", "remote.origin.url"], workspace, env) === url) {
    for (const lock of ["index.lock", "shallow.lock"]) fs.rmSync(path.join(workspace, ".git", lock), { force: true });
    if (clean) {
      try {
        git(["clean", "-ffdx"], workspace, env, log);
        git(["reset", "--hard", "HEAD"], workspace, env, log);
      } catch {
        log.push(`Unable to clean or reset the repository. The repository will be recreated instead.`);
        emptyDir(workspace);
      }
    }
  } else if (fs.readdirSync(workspace).length > 0) {
    log.push(`Deleting the contents of '${workspace}'`);
    emptyDir(workspace);
  }
  if (!fs.existsSync(path.join(workspace, ".git"))) {
    git(["init", workspace], workspace, env, log);
    git(["remote", "add", "origin", url], workspace, env, log);
  }
  git(["config", "--local", "gc.auto", "0"], workspace, env, log);
  // input-helper.ts: no `ref` input means the event's ref and sha; a ref that is a sha is a commit.
  let ref = inputs.ref ?? "";
  let commit = "";
  if (!ref) [ref, commit] = [eventRef, eventSha];
  else if (/^[0-9a-f]{40}$/i.test(ref)) [ref, commit] = ["", ref];
  const depth = Number(inputs["fetch-depth"] ?? "1");
  const upper = ref.toUpperCase();
  let refSpec: string[];
  if (depth <= 0) {
    refSpec = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"];
    if (commit && upper.startsWith("REFS/PULL/")) refSpec.push(`+${commit}:refs/remotes/pull/${ref.slice("refs/pull/".length)}`);
  } else if (commit) {
    if (upper.startsWith("REFS/HEADS/")) refSpec = [`+${commit}:refs/remotes/origin/${ref.slice("refs/heads/".length)}`];
    else if (upper.startsWith("REFS/PULL/")) refSpec = [`+${commit}:refs/remotes/pull/${ref.slice("refs/pull/".length)}`];
    else if (upper.startsWith("REFS/TAGS/")) refSpec = [`+${commit}:${ref}`];
    else refSpec = [commit];
  } else if (!upper.startsWith("REFS/")) refSpec = [`+refs/heads/${ref}*:refs/remotes/origin/${ref}*`, `+refs/tags/${ref}*:refs/tags/${ref}*`];
  else if (upper.startsWith("REFS/HEADS/")) refSpec = [`+${ref}:refs/remotes/origin/${ref.slice("refs/heads/".length)}`];
  else if (upper.startsWith("REFS/PULL/")) refSpec = [`+${ref}:refs/remotes/pull/${ref.slice("refs/pull/".length)}`];
  else refSpec = [`+${ref}:${ref}`];
  const shallow = fs.existsSync(path.join(workspace, ".git", "shallow"));
  const fetchArgs = ["-c", "protocol.version=2", "fetch", ...(depth > 0 ? ["--no-tags"] : []), "--prune", "--no-recurse-submodules"];
  if (depth > 0) fetchArgs.push(`--depth=${depth}`);
  else if (shallow) fetchArgs.push("--unshallow");
  git([...fetchArgs, "origin", ...refSpec], workspace, env, log);
  // ref-helper.ts getCheckoutInfo: a branch is checked out with -B from its remote ref; a pull
  // request's ref, a tag or a commit detached.
  let target: string;
  let startPoint: string | undefined;
  if (!ref) target = commit;
  else if (upper.startsWith("REFS/HEADS/")) [target, startPoint] = [ref.slice("refs/heads/".length), `refs/remotes/origin/${ref.slice("refs/heads/".length)}`];
  else if (upper.startsWith("REFS/PULL/")) target = `refs/remotes/pull/${ref.slice("refs/pull/".length)}`;
  else if (upper.startsWith("REFS/")) target = ref;
  else if (gitOut(["branch", "--list", "--remote", `origin/${ref}`], workspace, env)) [target, startPoint] = [ref, `refs/remotes/origin/${ref}`];
  else target = `refs/tags/${ref}`;
  git(["checkout", "--progress", "--force", ...(startPoint ? ["-B", target, startPoint] : [target])], workspace, env, log);
  const head = gitOut(["log", "-1", "--format=%H"], workspace, env) ?? "";
  log.push(head);
  return { log, outputs: { ref, commit: head } };
}

/** The version a setup-* action would have installed, as the machine has it. */
function machineTool(action: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const probes: Record<string, string[][]> = { "actions/setup-node": [["node", "--version"]], "actions/setup-go": [["go", "version"]], "actions/setup-python": [["python", "--version"], ["python3", "--version"]] };
  for (const [cmd, ...args] of probes[action]) {
    const r = run(cmd, args, { cwd, env });
    if (r.status === 0) return `${cmd}: ${(r.stdout || r.stderr).trim()}`;
  }
  return `none of ${probes[action].map((p) => p[0]).join(", ")} is on the machine's PATH`;
}

/** A stand-in for a github-script global this runner does not provide: any use says so. */
function notMirrored(name: string): unknown {
  return new Proxy(
    {},
    {
      get: () => {
        throw new Error(`github-script's \`${name}\` is not mirrored by test/support/workflows.ts`);
      },
    },
  );
}

/**
 * actions/github-script@v7 (src/main.ts, src/async-function.ts): the script is the body of an
 * async function of (require, __original_require__, github, octokit, context, core, exec, glob, io),
 * run in the workspace with the step's environment as process.env; its return value is the
 * `result` output (JSON unless result-encoding is string); a throw or core.setFailed fails it.
 */
async function githubScript(inputs: Record<string, string>, stepEnv: NodeJS.ProcessEnv, workspace: string, context: object, github: GitHubStandIn): Promise<{ ok: boolean; stdout: string; stderr: string; outputs: Record<string, string>; exported: Record<string, string> }> {
  const out: string[] = [];
  const err: string[] = [];
  const outputs: Record<string, string> = {};
  const exported: Record<string, string> = {};
  let failed = false;
  const core = {
    info: (m: string) => out.push(m),
    debug: () => undefined,
    notice: (m: unknown) => out.push(`::notice::${m}`),
    warning: (m: unknown) => out.push(`::warning::${m}`),
    error: (m: unknown) => out.push(`::error::${m}`),
    setFailed: (m: unknown) => {
      failed = true;
      out.push(`::error::${m instanceof Error ? m.message : m}`);
    },
    setOutput: (name: string, value: unknown) => (outputs[name] = typeof value === "string" ? value : JSON.stringify(value)),
    exportVariable: (name: string, value: unknown) => (exported[name] = String(value)),
    getInput: (name: string) => inputs[name] ?? "",
  };
  // Like github-script's wrapRequire: relative to the workspace, then node's resolution from it.
  const require = createRequire(path.join(workspace, "noop.js"));
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  const savedConsole = { log: console.log, info: console.info, warn: console.warn, error: console.error };
  const fmt = (args: unknown[]) => util.format(...args);
  try {
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, stepEnv);
    process.chdir(workspace);
    console.log = console.info = (...a: unknown[]) => out.push(fmt(a));
    console.warn = console.error = (...a: unknown[]) => err.push(fmt(a));
    const fn = new AsyncFunction("require", "__original_require__", "github", "octokit", "context", "core", "exec", "glob", "io", inputs.script);
    const result = await fn(require, require, github, github, context, core, notMirrored("exec"), notMirrored("glob"), notMirrored("io"));
    outputs.result = inputs["result-encoding"] === "string" ? String(result) : (JSON.stringify(result) ?? "");
  } catch (e) {
    failed = true;
    err.push(`Unhandled error: ${util.inspect(e)}`);
  } finally {
    Object.assign(console, savedConsole);
    process.chdir(savedCwd);
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
  return { ok: !failed, stdout: out.join("\n") + (out.length ? "\n" : ""), stderr: err.join("\n") + (err.length ? "\n" : ""), outputs, exported };
}

function stringEnv(env: Record<string, unknown> | undefined, scope: ExpressionScope): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, typeof v === "string" ? interpolate(v, scope) : toText(v)]));
}

/** Runs one job of a workflow, as a self-hosted runner would. */
export async function runJob(opts: RunJobOptions): Promise<JobResult> {
  const wf = readWorkflow(opts.workflowFile);
  const file = path.basename(opts.workflowFile);
  const job = wf.jobs[opts.job];
  if (!job) throw new Error(`${file} has no job ${opts.job}; it has ${Object.keys(wf.jobs).join(", ")}`);
  const problems = unsupported(opts.workflowFile).filter((p) => p.startsWith(`${file}: job ${opts.job}`));
  if (problems.length) throw new Error(problems.join("\n"));

  // The event must be one the workflow runs on, with its branch filter (docs: "on.<push|pull_request>.branches").
  const on = triggers(wf.on);
  if (!(opts.event.name in on)) throw new Error(`${file} does not run on ${opts.event.name}; on: ${Object.keys(on).join(", ")}`);
  const branches = on[opts.event.name]?.branches as string[] | undefined;
  if (branches && opts.event.name === "push") {
    const branch = opts.repo.ref.replace(/^refs\/heads\//, "");
    if (!branches.some((b) => branchMatches(b, branch))) throw new Error(`${file} does not run on a push to ${opts.repo.ref} (on.push.branches: ${branches.join(", ")})`);
  }

  // The matrix combination must be one of the job's.
  const matrixSpec = job.strategy?.matrix;
  const matrix = { ...(opts.matrix ?? {}) };
  if (matrixSpec && !opts.matrix) throw new Error(`${file} job ${opts.job} has a matrix (${Object.keys(matrixSpec).join(", ")}): pass opts.matrix`);
  for (const [k, v] of Object.entries(matrix)) {
    const allowed = matrixSpec?.[k];
    if (!Array.isArray(allowed) || !allowed.map(String).includes(v)) throw new Error(`${file} job ${opts.job}: matrix.${k}=${v} is not one of the job's (${Array.isArray(allowed) ? allowed.join(", ") : "none"})`);
  }

  const gh = opts.github;
  const [owner] = gh.repository.split("/");
  const payload = opts.event.payload as Record<string, any>;
  const temp = opts.runnerTemp ?? path.join(path.dirname(path.resolve(opts.workspace)), "_temp");
  const workspace = path.resolve(opts.workspace);
  const refType = opts.repo.ref.startsWith("refs/tags/") ? "tag" : "branch";
  const refName = opts.repo.ref.replace(/^refs\/(heads|tags|pull)\//, "");
  const eventPath = path.join(temp, "_github_workflow", "event.json");
  const github = {
    action: "",
    actor: gh.actor,
    api_url: "https://api.github.com",
    base_ref: opts.event.name === "pull_request" ? (payload.pull_request?.base?.ref ?? "") : "",
    event: payload,
    event_name: opts.event.name,
    event_path: eventPath,
    graphql_url: "https://api.github.com/graphql",
    head_ref: opts.event.name === "pull_request" ? (payload.pull_request?.head?.ref ?? "") : "",
    job: opts.job,
    ref: opts.repo.ref,
    ref_name: refName,
    ref_type: refType,
    repository: gh.repository,
    repository_owner: owner,
    run_attempt: "1",
    run_id: String(gh.runId),
    run_number: "1",
    server_url: gh.serverUrl,
    sha: opts.repo.sha,
    token: opts.secrets.GITHUB_TOKEN ?? "",
    workflow: wf.name ?? `.github/workflows/${file}`,
    workspace,
  };
  const needIds = job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
  const needs = Object.fromEntries(needIds.map((n) => [n, opts.needs?.[n] ?? { result: "success", outputs: {} }]));
  // A missing secret or variable is '' (docs: "secrets context", "vars context").
  const secrets = new Proxy({ ...opts.secrets } as Record<string, string>, { get: (t, k) => (typeof k === "string" ? (property(t, k) ?? "") : undefined), has: () => true });
  const vars = new Proxy({ ...opts.vars } as Record<string, string>, { get: (t, k) => (typeof k === "string" ? (property(t, k) ?? "") : undefined), has: () => true });
  const inputs = opts.event.name === "workflow_dispatch" ? (payload.inputs ?? {}) : {};
  const strategy = { "fail-fast": true, "job-index": 0, "job-total": 1, "max-parallel": 1 };
  const runner = { name: `${opts.job}-runner`, os: "Linux", arch: process.arch === "arm64" ? "ARM64" : "X64", temp, tool_cache: path.join(path.dirname(temp), "_tool"), debug: "" };

  // Context availability (docs: "Contexts" > "Context availability").
  const jobIfScope: ExpressionScope = { contexts: { github, needs, vars, inputs }, failed: Object.values(needs).some((n) => n.result !== "success") };
  const jobScope: ExpressionScope = { contexts: { github, needs, strategy, matrix, vars, inputs } };
  const jobName = job.name !== undefined ? interpolate(job.name, jobScope) : opts.job;
  const record = {
    name: jobName,
    runsOn: interpolateDeep(job["runs-on"], jobScope),
    environment: interpolateDeep(job.environment, jobScope),
    concurrency: interpolateDeep(job.concurrency, jobScope),
    needs: needIds,
    permissions: job.permissions ?? (wf as { permissions?: unknown }).permissions,
  };
  if (!condition(job.if, jobIfScope)) return { status: "skipped", steps: [], outputs: {}, ...record };

  // The runner empties its temp folder at the start and end of each job (actions/runner JobRunner).
  fs.rmSync(temp, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(eventPath), { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  fs.writeFileSync(eventPath, JSON.stringify(payload, null, 2));
  const masks = Object.values(opts.secrets).filter((s) => s !== "").flatMap((s) => s.split("\n").filter(Boolean));
  const mask = (text: string) => masks.reduce((t, s) => t.split(s).join("***"), text);

  const workflowEnv = stringEnv(wf.env, { contexts: { github, secrets, inputs, vars } });
  const jobEnv = stringEnv(job.env, { contexts: { github, needs, strategy, matrix, vars, secrets, inputs } });
  // GITHUB_ENV writes join the job's env for later steps; a step's own env: still wins (actions/runner SetEnvFileCommand).
  const envContext: Record<string, string> = { ...workflowEnv, ...jobEnv };
  const addedPath: string[] = [];
  const stepsContext: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
  const defaults = { ...(wf.defaults?.run ?? {}), ...(job.defaults?.run ?? {}) };
  const jobDeadline = Date.now() + Number(job["timeout-minutes"] ?? 360) * 60_000;
  const results: StepResult[] = [];
  let failed = false;

  for (const [index, step] of (job.steps ?? []).entries()) {
    const started = Date.now();
    const jobContext = { status: failed ? "failure" : "success" };
    const ifScope: ExpressionScope = { contexts: { github, needs, strategy, matrix, job: jobContext, runner, env: envContext, vars, steps: stepsContext, inputs }, failed, workspace };
    const baseScope: ExpressionScope = { contexts: { ...ifScope.contexts, secrets }, failed, workspace };
    const stepEnv = stringEnv(step.env, baseScope);
    const scope: ExpressionScope = { ...baseScope, contexts: { ...baseScope.contexts, env: { ...envContext, ...stepEnv } } };
    const name = step.name !== undefined ? interpolate(step.name, scope) : step.uses ? `Run ${step.uses}` : `Run ${(step.run ?? "").split("\n")[0]}`;
    const finish = (r: Omit<StepResult, "name" | "id" | "uses" | "run" | "seconds" | "conclusion">): void => {
      const continueOnError = step["continue-on-error"] !== undefined && truthy(typeof step["continue-on-error"] === "string" ? interpolate(step["continue-on-error"], scope) : step["continue-on-error"]);
      const conclusion = r.outcome === "failure" && continueOnError ? "success" : r.outcome;
      const result: StepResult = { name, ...(step.id ? { id: step.id } : {}), ...(step.uses ? { uses: step.uses } : {}), ...(step.run !== undefined ? { run: step.run } : {}), ...r, stdout: mask(r.stdout), stderr: mask(r.stderr), conclusion, seconds: (Date.now() - started) / 1000 };
      if (step.id) stepsContext[step.id] = { outputs: { ...r.outputs }, outcome: r.outcome, conclusion };
      if (conclusion === "failure") failed = true;
      results.push(result);
      opts.onStep?.(result);
    };
    if (!condition(step.if, ifScope)) {
      finish({ outcome: "skipped", stdout: "", stderr: "", outputs: {} });
      continue;
    }

    // Per step: file commands and the default variables (docs: "Default environment variables").
    const commands = path.join(temp, "_runner_file_commands");
    fs.mkdirSync(commands, { recursive: true });
    const files = Object.fromEntries(["GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY", "GITHUB_STATE"].map((v) => [v, path.join(commands, `${v.toLowerCase()}_${index}_${crypto.randomUUID()}`)]));
    for (const f of Object.values(files)) fs.writeFileSync(f, "");
    const defaultsEnv: Record<string, string> = {
      GITHUB_ACTIONS: "true",
      GITHUB_ACTION: step.id ?? `__run${index ? `_${index + 1}` : ""}`,
      GITHUB_ACTOR: github.actor,
      GITHUB_API_URL: github.api_url,
      GITHUB_BASE_REF: github.base_ref,
      GITHUB_EVENT_NAME: github.event_name,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_GRAPHQL_URL: github.graphql_url,
      GITHUB_HEAD_REF: github.head_ref,
      GITHUB_JOB: opts.job,
      GITHUB_REF: github.ref,
      GITHUB_REF_NAME: github.ref_name,
      GITHUB_REF_TYPE: github.ref_type,
      GITHUB_REPOSITORY: github.repository,
      GITHUB_REPOSITORY_OWNER: github.repository_owner,
      GITHUB_RUN_ATTEMPT: github.run_attempt,
      GITHUB_RUN_ID: github.run_id,
      GITHUB_RUN_NUMBER: github.run_number,
      GITHUB_SERVER_URL: github.server_url,
      GITHUB_SHA: github.sha,
      GITHUB_WORKFLOW: github.workflow,
      GITHUB_WORKSPACE: workspace,
      RUNNER_ARCH: runner.arch,
      RUNNER_NAME: runner.name,
      RUNNER_OS: runner.os,
      RUNNER_TEMP: temp,
      RUNNER_TOOL_CACHE: runner.tool_cache,
      RUNNER_WORKSPACE: path.dirname(workspace),
      ...files,
    };
    // Machine env, CI, the workflow's and job's env with GITHUB_ENV's, the step's; GITHUB_* and
    // RUNNER_* cannot be overridden (docs: "Setting an environment variable").
    const env: NodeJS.ProcessEnv = { ...opts.env, CI: "true", ...envContext, ...stepEnv, ...defaultsEnv };
    if (addedPath.length) env.PATH = [...addedPath, env.PATH].filter(Boolean).join(":");
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const stepTimeout = step["timeout-minutes"] !== undefined ? Number(interpolate(String(step["timeout-minutes"]), scope)) * 60_000 : Infinity;
    const timeoutMs = Math.max(0, Math.min(stepTimeout, jobDeadline - Date.now()));

    let outcome: "success" | "failure" = "success";
    let stdout = "";
    let stderr = "";
    let outputs: Record<string, string> = {};
    let note: string | undefined;
    if (step.run !== undefined) {
      const script = interpolate(step.run, scope);
      const scriptFile = path.join(temp, `${crypto.randomUUID()}.sh`);
      fs.writeFileSync(scriptFile, script);
      const [cmd, ...args] = shellCommand(step.shell ?? defaults.shell).map((a) => a.replace("{0}", scriptFile));
      const wd = step["working-directory"] ?? defaults["working-directory"];
      const cwd = wd ? path.resolve(workspace, interpolate(wd, scope)) : workspace;
      const r = await spawnCapture(cmd, args, { cwd, env, timeoutMs });
      stdout = r.stdout;
      stderr = r.stderr + (r.timedOut ? `\n##[error]The action '${name}' has timed out.\n` : r.status !== 0 ? `\n##[error]Process completed with exit code ${r.status}.\n` : "");
      outcome = r.status === 0 && !r.timedOut ? "success" : "failure";
    } else {
      const uses = step.uses!;
      const action = actionName(uses);
      const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, typeof v === "string" ? interpolate(v, scope) : toText(v)]));
      if (action === "actions/checkout") {
        try {
          const r = checkoutAction(workspace, opts.repo.origin, opts.repo.ref, opts.repo.sha, inputs, env);
          stdout = r.log.join("\n") + "\n";
          outputs = r.outputs;
        } catch (e) {
          outcome = "failure";
          stderr = `##[error]${(e as Error).message}\n`;
        }
      } else if (action === "actions/github-script") {
        const context = { repo: { owner, repo: gh.repository.split("/")[1] }, payload, eventName: opts.event.name, sha: opts.repo.sha, ref: opts.repo.ref, runId: gh.runId, runNumber: 1, job: opts.job, actor: gh.actor, workflow: github.workflow, serverUrl: gh.serverUrl, apiUrl: github.api_url, issue: { owner, repo: gh.repository.split("/")[1], number: payload.pull_request?.number ?? payload.issue?.number } };
        const r = await githubScript(inputs, { ...env, ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, "_").toUpperCase()}`, v])) }, workspace, context, gh);
        ({ stdout, stderr, outputs } = r);
        outcome = r.ok ? "success" : "failure";
        fs.appendFileSync(files.GITHUB_ENV, Object.entries(r.exported).map(([k, v]) => `${k}<<_EOF_\n${v}\n_EOF_\n`).join(""));
      } else {
        // setup-node, setup-go, setup-python: the runner machine's own tool stands in.
        note = `${uses}${Object.keys(inputs).length ? ` (${Object.entries(inputs).map(([k, v]) => `${k}: ${v}`).join(", ")})` : ""} not run: the machine's own ${machineTool(action, env, workspace)}`;
      }
    }
    // File commands, read after the step whatever its outcome (actions/runner FileCommandManager).
    try {
      outputs = { ...outputs, ...parseFileCommands(fs.readFileSync(files.GITHUB_OUTPUT, "utf8")) };
      for (const [k, v] of Object.entries(parseFileCommands(fs.readFileSync(files.GITHUB_ENV, "utf8")))) envContext[k] = v;
      addedPath.unshift(...fs.readFileSync(files.GITHUB_PATH, "utf8").split("\n").map((l) => l.trim()).filter(Boolean).reverse());
    } catch (e) {
      outcome = "failure";
      stderr += `##[error]${(e as Error).message}\n`;
    }
    finish({ outcome, stdout, stderr, outputs, ...(note ? { note } : {}) });
  }

  const outScope: ExpressionScope = { contexts: { github, needs, strategy, matrix, job: { status: failed ? "failure" : "success" }, runner, env: envContext, vars, secrets, steps: stepsContext, inputs } };
  const outputs = stringEnv(job.outputs, outScope);
  fs.rmSync(temp, { recursive: true, force: true });
  return { status: failed ? "failure" : "success", steps: results, outputs, ...record };
}
