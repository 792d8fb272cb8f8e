import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { CliError } from "../../cli/args";
import { readCloudUpdates, readUpdates } from "../../cli/historySource";
import { fleetEnv, PulumiResult, resolveBackend } from "../../cli/pulumi";
import { parseHistory } from "../../cli/stackHistory";
import { run } from "../../proc";
import { REPO, tempDir } from "../support/project";

/**
 * The one backend rule (cli/pulumi.ts, and scripts/env.sh for a shell) and the history read from
 * the backend it picks: PULUMI_BACKEND_URL, else `pulumi login`'s credentials.json, else (compiled
 * toolchain only) fleet's own file backend.
 */
const FIXTURE_BACKEND = path.join(REPO, "test/fixtures/history/backend");
const CLOUD = path.join(REPO, "test/fixtures/history/cloud");
const STACK = "e2e-rollback";
const KEYS = ["PATH", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_SKIP_UPDATE_CHECK", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK"];

/** A home of its own (HOME, FLEET_CACHE), a toolchain mode, and optionally a `pulumi login`. */
function home(opts: { mode?: "compiled" | "installed"; current?: string; pulumiHome?: string } = {}): NodeJS.ProcessEnv {
  const dir = tempDir("fleet-backend-home-");
  const cache = path.join(dir, ".cache", "fleet");
  fs.mkdirSync(cache, { recursive: true });
  if (opts.mode) fs.writeFileSync(path.join(cache, "toolchain.mode"), opts.mode === "installed" ? "installed /usr/local/bin/pulumi\n" : "compiled\n");
  if (opts.current !== undefined) {
    const pulumiHome = opts.pulumiHome ?? path.join(dir, ".pulumi");
    fs.mkdirSync(pulumiHome, { recursive: true });
    // As the CLI writes it: Go's encoder, four spaces, `&`, `<` and `>` escaped.
    const text = JSON.stringify({ current: opts.current, accessTokens: { [opts.current]: "" }, accounts: {} }, null, 4).replace(/&/g, "\\u0026").replace(/</g, "\\u003c").replace(/>/g, "\\u003e");
    fs.writeFileSync(path.join(pulumiHome, "credentials.json"), text);
  }
  return { HOME: dir, FLEET_CACHE: cache, PATH: "/usr/bin:/bin" };
}

/** The KEYS after `source scripts/env.sh` in a shell with exactly `env`. */
function envSh(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const r = run("bash", ["-c", `source ${path.join(REPO, "scripts", "env.sh")}; ${KEYS.map((k) => `echo "${k}=\${${k}-<unset>}"`).join("; ")}`], { env });
  assert.equal(r.status, 0, r.stderr);
  return Object.fromEntries(r.stdout.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]).map(([k, v]) => [k, v === "<unset>" ? undefined : v]));
}

function pick(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(KEYS.map((k) => [k, env[k]]));
}

describe("the backend rule: scripts/env.sh and fleetEnv agree", () => {
  const own = (env: NodeJS.ProcessEnv) => `file://${env.FLEET_CACHE}/state`;
  const cases: { name: string; env: () => NodeJS.ProcessEnv; backend: (env: NodeJS.ProcessEnv) => string | undefined; passphrase: string | undefined; resolved: (env: NodeJS.ProcessEnv) => string | undefined }[] = [
    { name: "compiled toolchain, no login: fleet's own file backend, empty passphrase", env: () => home({ mode: "compiled" }), backend: own, passphrase: "", resolved: own },
    { name: "no toolchain.mode yet counts as compiled", env: () => home(), backend: own, passphrase: "", resolved: own },
    { name: "compiled toolchain, logged into another folder: left to the CLI, no passphrase forced", env: () => home({ mode: "compiled", current: "file:///srv/other-state" }), backend: () => undefined, passphrase: undefined, resolved: () => "file:///srv/other-state" },
    { name: "compiled toolchain, logged into Pulumi Cloud", env: () => home({ mode: "compiled", current: "https://api.pulumi.com" }), backend: () => undefined, passphrase: undefined, resolved: () => "https://api.pulumi.com" },
    { name: "a login with characters Go escapes", env: () => home({ mode: "compiled", current: "file:///srv/a&b<c>" }), backend: () => undefined, passphrase: undefined, resolved: () => "file:///srv/a&b<c>" },
    { name: "a logged-out CLI (current empty) falls back to fleet's own", env: () => home({ mode: "compiled", current: "" }), backend: own, passphrase: "", resolved: own },
    {
      name: "PULUMI_HOME's credentials, not ~/.pulumi's",
      env: () => {
        const e = home({ mode: "compiled" });
        const ph = path.join(e.HOME!, "elsewhere");
        home({ current: "file:///srv/ph", pulumiHome: ph });
        return { ...e, PULUMI_HOME: ph };
      },
      backend: () => undefined,
      passphrase: undefined,
      resolved: () => "file:///srv/ph",
    },
    { name: "PULUMI_BACKEND_URL wins over a login", env: () => ({ ...home({ mode: "compiled", current: "file:///srv/other-state" }), PULUMI_BACKEND_URL: "file:///srv/mine" }), backend: () => "file:///srv/mine", passphrase: undefined, resolved: () => "file:///srv/mine" },
    {
      name: "fleet's own backend named explicitly keeps a passphrase the caller set",
      env: () => {
        const e = home({ mode: "compiled" });
        return { ...e, PULUMI_BACKEND_URL: own(e), PULUMI_CONFIG_PASSPHRASE: "s3cret" };
      },
      backend: own,
      passphrase: "s3cret",
      resolved: own,
    },
    { name: "installed CLI, no login: nothing set (the CLI asks to log in)", env: () => home({ mode: "installed" }), backend: () => undefined, passphrase: undefined, resolved: () => undefined },
    { name: "installed CLI, logged in: the login", env: () => home({ mode: "installed", current: "https://api.pulumi.com" }), backend: () => undefined, passphrase: undefined, resolved: () => "https://api.pulumi.com" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const env = c.env();
      const shell = envSh(env);
      assert.deepEqual(pick(fleetEnv(env)), shell, "fleetEnv differs from scripts/env.sh");
      assert.equal(shell.PULUMI_BACKEND_URL, c.backend(env));
      assert.equal(shell.PULUMI_CONFIG_PASSPHRASE, c.passphrase);
      assert.equal(resolveBackend(env)?.url, c.resolved(env));
      // What a fleet command resolves after fleetEnv is what it resolves before.
      assert.equal(resolveBackend(fleetEnv(env))?.url, c.resolved(env));
    });
  }
});

describe("history reads the backend the CLI is logged into", () => {
  /** A home whose fleet state holds the recorded e2e-rollback stack. */
  function withFleetState(opts: { current?: string } = {}): NodeJS.ProcessEnv {
    const env = home({ mode: "compiled", ...opts });
    fs.symlinkSync(FIXTURE_BACKEND, path.join(env.FLEET_CACHE!, "state"));
    return env;
  }

  it("without a login, reads fleet's own state (the compiled toolchain's default)", () => {
    assert.equal(parseHistory(readUpdates(REPO, STACK, withFleetState())).length, 6);
  });

  it("after `pulumi login file://EMPTY`, reads EMPTY, not fleet's own state", () => {
    const empty = tempDir("fleet-empty-backend-");
    const env = withFleetState({ current: `file://${empty}` });
    assert.throws(() => readUpdates(REPO, STACK, env), (e: unknown) => e instanceof CliError && new RegExp(`^unknown stack "${STACK}" in ${empty.replace(/[/.]/g, "\\$&")} \\(project fleet\\); known stacks: none$`).test(e.message));
  });

  it("PULUMI_BACKEND_URL wins over the login", () => {
    const empty = tempDir("fleet-empty-backend-");
    const env = { ...home({ mode: "installed", current: `file://${empty}` }), PULUMI_BACKEND_URL: `file://${FIXTURE_BACKEND}` };
    assert.equal(readUpdates(REPO, STACK, env).length, 6);
  });

  it("rejects a backend other than file:// and Pulumi Cloud, naming it and where it came from", () => {
    assert.throws(
      () => readUpdates(REPO, STACK, { ...home(), PULUMI_BACKEND_URL: "s3://bucket/fleet" }),
      (e: unknown) => e instanceof CliError && /^the Pulumi backend is s3:\/\/bucket\/fleet \(PULUMI_BACKEND_URL\); fleet history, rollback and release read a file backend \(file:\/\/DIR\) or Pulumi Cloud \(https:\/\/\.\.\., `pulumi login`\)$/.test(e.message),
    );
    assert.throws(() => readUpdates(REPO, STACK, home({ current: "gs://bucket" })), (e: unknown) => e instanceof CliError && /^the Pulumi backend is gs:\/\/bucket \(pulumi login, .*credentials\.json\); /.test(e.message));
  });

  it("with an installed CLI and no login, says to log in", () => {
    assert.throws(() => readUpdates(REPO, STACK, home({ mode: "installed" })), (e: unknown) => e instanceof CliError && /^no Pulumi backend: PULUMI_BACKEND_URL is not set and the Pulumi CLI is not logged in \(.*\/\.pulumi\/credentials\.json\); run `pulumi login`/.test(e.message));
  });
});

describe("history on Pulumi Cloud", () => {
  /** A runner that answers from the recorded output and keeps the commands it was asked. */
  function recorded(): { run: (args: readonly string[]) => PulumiResult; asked: string[] } {
    const asked: string[] = [];
    const run = (args: readonly string[]): PulumiResult => {
      const line = args.join(" ");
      asked.push(line);
      if (line === `stack history --json --stack ${STACK} --page-size 100 --page 1`) return { status: 0, stdout: fs.readFileSync(path.join(CLOUD, "stack-history.json"), "utf8"), stderr: "" };
      const version = new RegExp(`^stack export --version (\\d+) --stack ${STACK}$`).exec(line)?.[1];
      if (version) return { status: 0, stdout: fs.readFileSync(path.join(CLOUD, `export-${version}.json`), "utf8"), stderr: "" };
      return { status: 255, stdout: "", stderr: `error: no stack named '${args[args.indexOf("--stack") + 1]}' found\n` };
    };
    return { run, asked };
  }

  it("gives the same rows as the file backend for the same updates", () => {
    const file = parseHistory(readUpdates(REPO, STACK, { PULUMI_BACKEND_URL: `file://${FIXTURE_BACKEND}` }));
    const { run, asked } = recorded();
    const cloud = parseHistory(readUpdates(REPO, STACK, { ...home(), PULUMI_BACKEND_URL: "https://api.pulumi.com" }, run));
    assert.deepEqual(cloud, file);
    assert.equal(asked.length, 7, asked.join("\n"));
  });

  it("exports a finished update once: the next read asks only for the history, and for updates it has not seen", () => {
    const env = { ...home(), PULUMI_BACKEND_URL: "https://api.pulumi.com" };
    const first = recorded();
    const rows = parseHistory(readUpdates(REPO, STACK, env, first.run));
    const again = recorded();
    assert.deepEqual(parseHistory(readUpdates(REPO, STACK, env, again.run)), rows);
    assert.deepEqual(again.asked, [`stack history --json --stack ${STACK} --page-size 100 --page 1`]);
    // The stack removed and made again: update 1 is another update (another start time), exported anew.
    const remade = recorded();
    const history = JSON.parse(fs.readFileSync(path.join(CLOUD, "stack-history.json"), "utf8")) as { version: number; startTime: string }[];
    const one = history.find((u) => u.version === 1)!;
    one.startTime = new Date(Date.parse(one.startTime) + 60_000).toISOString();
    const run = (args: readonly string[]) => (args[1] === "history" ? (remade.asked.push(args.join(" ")), { status: 0, stdout: JSON.stringify(history), stderr: "" }) : remade.run(args));
    readUpdates(REPO, STACK, env, run);
    assert.deepEqual(remade.asked.slice(1), [`stack export --version 1 --stack ${STACK}`]);
  });

  it("is chosen by `pulumi login` without arguments (credentials.json's current is the cloud URL)", () => {
    const { run } = recorded();
    assert.equal(readUpdates(REPO, STACK, home({ mode: "installed", current: "https://api.pulumi.com" }), run).length, 6);
  });

  it("reads every page of the history, oldest first", () => {
    const asked: string[] = [];
    const entry = (version: number) => ({ version, kind: "refresh", startTime: new Date(1_700_000_000_000 + version * 1000).toISOString(), message: `r${version}`, environment: {}, config: {}, result: "succeeded" });
    const run = (args: readonly string[]): PulumiResult => {
      asked.push(args.join(" "));
      const page = Number(args[args.indexOf("--page") + 1]);
      if (args[1] === "history") return { status: 0, stdout: JSON.stringify(Array.from({ length: page === 1 ? 100 : page === 2 ? 30 : 0 }, (_, i) => entry(130 - (page - 1) * 100 - i))), stderr: "" };
      return { status: 0, stdout: JSON.stringify({ version: 3, deployment: { resources: [] } }), stderr: "" };
    };
    const rows = parseHistory(readCloudUpdates("https://api.pulumi.com", "s", run));
    assert.equal(rows.length, 130);
    assert.deepEqual([rows[0].message, rows[129].message], ["r1", "r130"]);
    assert.equal(asked.filter((a) => a.startsWith("stack history")).length, 2);
  });

  it("an unknown stack is pulumi's own message, on one line", () => {
    const { run } = recorded();
    assert.throws(() => readCloudUpdates("https://api.pulumi.com", "nope", run), (e: unknown) => e instanceof CliError && /^pulumi stack history --json --stack nope .* failed \(exit 255\): error: no stack named 'nope' found$/.test(e.message));
  });
});
