import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { must } from "../../proc";
import { REPO, tempDir } from "../support/project";
import { condition, evaluate, ExpressionScope, GitHubStandIn, hashFiles, JobResult, interpolate, parseFileCommands, runJob, RunJobOptions, unsupported } from "../support/workflows";

/**
 * The local workflow runner (test/support/workflows.ts) on small inline workflows: no Docker, no
 * Pulumi, only `run:` steps, a git repository of the test's as the origin, and the API stand-in.
 */
const tmp = () => tempDir("fleet-wf-");
const gitIn = (cwd: string, ...args: string[]) => must("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd }).stdout.trim();

/** An origin with three commits on main; returns its path and the shas, oldest first. */
function origin(): { dir: string; shas: string[] } {
  const dir = tmp();
  gitIn(dir, "init", "-q", "-b", "main");
  fs.writeFileSync(path.join(dir, ".gitignore"), "ignored/\n");
  const shas: string[] = [];
  for (const n of [1, 2, 3]) {
    fs.writeFileSync(path.join(dir, "file.txt"), `${n}\n`);
    gitIn(dir, "add", "-A");
    gitIn(dir, "commit", "-qm", `commit ${n}`);
    shas.push(gitIn(dir, "rev-parse", "HEAD"));
  }
  return { dir, shas };
}

/** A workflow file from an object, in a folder of its own. */
function workflow(spec: object): string {
  const file = path.join(tmp(), "wf.yml");
  fs.writeFileSync(file, YAML.stringify(spec));
  return file;
}

const PR_PAYLOAD = { pull_request: { number: 7, head: { ref: "feature", repo: { full_name: "home/fleet" } }, base: { ref: "main" } } };

/** Options for a job of an inline workflow, on a pull request of home/fleet. */
function options(workflowFile: string, job: string, over: Partial<RunJobOptions> = {}): RunJobOptions {
  const o = over.repo ? { dir: over.repo.origin, shas: [over.repo.sha] } : origin();
  return {
    workflowFile,
    job,
    event: { name: "pull_request", payload: PR_PAYLOAD },
    repo: { origin: o.dir, sha: o.shas[o.shas.length - 1], ref: "refs/pull/7/merge" },
    workspace: path.join(tmp(), "_work", "fleet", "fleet"),
    env: { HOME: tmp(), PATH: process.env.PATH, LANG: "C.UTF-8" },
    secrets: {},
    vars: {},
    github: new GitHubStandIn({ repository: "home/fleet" }),
    ...over,
  };
}

const on = { pull_request: null };
const steps = (job: JobResult) => job.steps.map((s) => `${s.name}: ${s.outcome}`);

describe("workflow runner: expressions", () => {
  const scope: ExpressionScope = {
    contexts: {
      github: { event_name: "pull_request", repository: "home/fleet", event: { pull_request: { number: 7, head: { repo: { full_name: "Home/Fleet" } }, labels: [{ name: "a" }, { name: "b" }] } } },
      matrix: { stack: "mainpc" },
      steps: { review: { outputs: { status: "0" }, outcome: "success" } },
      env: { EMPTY: "" },
    },
  };
  const ev = (e: string) => evaluate(e, scope);

  it("reads contexts, ignoring case, and a missing property is null", () => {
    assert.equal(ev("github.event.pull_request.number"), 7);
    assert.equal(ev("GITHUB.Event_Name"), "pull_request");
    assert.equal(ev("github['repository']"), "home/fleet");
    assert.equal(ev("github.event.pull_request.nothing.deeper"), null);
    assert.deepEqual([...(ev("github.event.pull_request.labels.*.name") as string[])], ["a", "b"]);
  });

  it("compares as GitHub does: strings ignoring case, other types as numbers, NaN equal to nothing", () => {
    assert.equal(ev("github.event.pull_request.head.repo.full_name == github.repository"), true, "case-insensitive");
    assert.equal(ev("steps.review.outputs.status != '0'"), false);
    assert.equal(ev("steps.review.outputs.status == 0"), true, "'0' coerces to 0");
    assert.equal(ev("'' == 0"), true);
    assert.equal(ev("null == false"), true);
    assert.equal(ev("'abc' == 0"), false);
    assert.equal(ev("'abc' != 'ABC'"), false);
    assert.equal(ev("1 < 2 && 'b' > 'A'"), true);
    assert.equal(ev("NaN == NaN"), false);
    assert.equal(ev("0x10 == 16 && -1.5e1 == -15"), true);
  });

  it("&& and || return an operand; ! and parentheses; string literals with ''", () => {
    assert.equal(ev("env.EMPTY || 'fallback'"), "fallback");
    assert.equal(ev("matrix.stack && 'yes'"), "yes");
    assert.equal(ev("!(matrix.stack == 'pc2') && !env.EMPTY"), true);
    assert.equal(ev("'it''s'"), "it's");
  });

  it("calls contains, startsWith, endsWith, format, join, toJSON and fromJSON", () => {
    assert.equal(ev("contains('Hello world', 'WORLD')"), true);
    assert.equal(ev("contains(fromJSON('[\"a\",\"b\"]'), 'b')"), true);
    assert.equal(ev("startsWith(github.repository, 'HOME/') && endsWith(github.repository, 'fleet')"), true);
    assert.equal(ev("format('{0}-{1} {{x}}', matrix.stack, 2)"), "mainpc-2 {x}");
    assert.equal(ev("join(fromJSON('[1,2]'), '+')"), "1+2");
    assert.equal(ev("toJSON(matrix)"), '{\n  "stack": "mainpc"\n}');
  });

  it("interpolates ${{ }} in text: null is '', a '}}' inside a string is not the end", () => {
    assert.equal(interpolate("review ${{ matrix.stack }}/${{ secretsless }}", { contexts: { matrix: { stack: "pc2" }, secretsless: null } }), "review pc2/");
    assert.equal(interpolate("${{ '}}' }}!", scope), "}}!");
  });

  it("rejects what GitHub rejects: an unknown context or function, a status function outside if:, bad syntax", () => {
    assert.throws(() => ev("secrets.X"), /Unrecognized named-value: 'secrets'/);
    assert.throws(() => ev("nope()"), /Unrecognized function: 'nope'/);
    assert.throws(() => ev("always()"), /only allowed in if:/);
    assert.throws(() => ev("matrix.stack =="), /Unexpected 'end of expression'/);
    assert.throws(() => ev("'open"), /unterminated string/);
  });

  it("if: without ${{ }} is an expression; without a status function it is success() && (...)", () => {
    assert.equal(condition(undefined, { ...scope, failed: false }), true);
    assert.equal(condition(undefined, { ...scope, failed: true }), false);
    assert.equal(condition("matrix.stack == 'mainpc'", { ...scope, failed: true }), false, "implicit success()");
    assert.equal(condition("${{ failure() && matrix.stack == 'mainpc' }}", { ...scope, failed: true }), true);
    assert.equal(condition("always()", { ...scope, failed: true }), true);
    assert.equal(condition("cancelled()", scope), false);
    assert.equal(condition("${{ false }} ", scope), false, "one expression with blanks around is still the expression");
  });

  it("reads GITHUB_OUTPUT's name=value lines and name<<DELIMITER blocks", () => {
    assert.deepEqual(parseFileCommands("status=0\nbody<<EOF\nline 1\nline=2\nEOF\nempty=\n"), { status: "0", body: "line 1\nline=2", empty: "" });
    assert.throws(() => parseFileCommands("body<<EOF\nno end\n"), /Matching delimiter not found 'EOF'/);
  });

  it("hashFiles: a hash when a file matches (globs, directories, negation), '' when none does", () => {
    const ws = tmp();
    fs.mkdirSync(path.join(ws, "docs", "deep"), { recursive: true });
    fs.writeFileSync(path.join(ws, "review.md"), "x");
    fs.writeFileSync(path.join(ws, "docs", "deep", "a.md"), "a");
    assert.equal(hashFiles(ws, ["missing.md"]), "");
    assert.match(hashFiles(ws, ["review.md"]), /^[0-9a-f]{64}$/);
    assert.equal(hashFiles(ws, ["./review.md"]), hashFiles(ws, ["review.md"]));
    assert.notEqual(hashFiles(ws, ["**/*.md"]), hashFiles(ws, ["review.md"]));
    assert.equal(hashFiles(ws, ["docs"]), hashFiles(ws, ["docs/deep/a.md"]), "a directory brings its files");
    assert.equal(hashFiles(ws, ["**/*.md", "!docs/**"]), hashFiles(ws, ["review.md"]));
    assert.equal(hashFiles(ws, ["../outside"]), "", "only the workspace counts");
    fs.symlinkSync(ws, path.join(ws, "docs", "loop"));
    assert.match(hashFiles(ws, ["**/*.md"]), /^[0-9a-f]{64}$/, "a symbolic link loop ends");
  });
});

describe("workflow runner: jobs", () => {
  it("checkout: depth 1 of the event's sha into the workspace; a second run cleans what the first left", async () => {
    const o = origin();
    const wf = workflow({ on, jobs: { j: { "runs-on": "self-hosted", steps: [{ uses: "actions/checkout@v4" }, { run: "touch untracked.txt && mkdir -p ignored && touch ignored/x && echo changed > file.txt" }] } } });
    const opts = options(wf, "j", { repo: { origin: o.dir, sha: o.shas[1], ref: "refs/pull/7/merge" } });
    const first = await runJob(opts);
    assert.equal(first.status, "success", first.steps.map((s) => s.stderr).join("\n"));
    assert.equal(gitIn(opts.workspace, "rev-list", "--count", "HEAD"), "1");
    assert.equal(gitIn(opts.workspace, "rev-parse", "HEAD"), o.shas[1]);
    assert.equal(first.steps[0].outputs.commit, o.shas[1]);
    assert.ok(fs.existsSync(path.join(opts.workspace, "untracked.txt")));
    // The second run: only the checkout, in the same work folder.
    const second = await runJob({ ...opts, workflowFile: workflow({ on, jobs: { j: { "runs-on": "self-hosted", steps: [{ uses: "actions/checkout@v4" }] } } }) });
    assert.equal(second.status, "success");
    assert.match(second.steps[0].stdout, /git clean -ffdx/);
    assert.ok(!fs.existsSync(path.join(opts.workspace, "untracked.txt")), "untracked files are removed");
    assert.ok(!fs.existsSync(path.join(opts.workspace, "ignored")), "ignored files too (-x)");
    assert.equal(fs.readFileSync(path.join(opts.workspace, "file.txt"), "utf8"), "2\n", "changes are reset");
  });

  it("checkout: with.ref names a branch (the branch's tip, on that branch), with.fetch-depth 0 fetches all history", async () => {
    const o = origin();
    const wf = workflow({ on: { schedule: [{ cron: "17 5 * * *" }] }, jobs: { j: { "runs-on": "x", steps: [{ uses: "actions/checkout@v4", with: { ref: "main", "fetch-depth": 0 } }] } } });
    const opts = options(wf, "j", { event: { name: "schedule", payload: {} }, repo: { origin: o.dir, sha: o.shas[0], ref: "refs/heads/main" } });
    const r = await runJob(opts);
    assert.equal(r.status, "success", r.steps[0].stderr);
    assert.equal(gitIn(opts.workspace, "rev-parse", "HEAD"), o.shas[2], "main's tip, not the event's sha");
    assert.equal(gitIn(opts.workspace, "rev-parse", "--abbrev-ref", "HEAD"), "main");
    assert.equal(gitIn(opts.workspace, "rev-list", "--count", "HEAD"), "3");
  });

  it("checkout: a workspace holding something else is emptied first", async () => {
    const opts = options(workflow({ on, jobs: { j: { "runs-on": "x", steps: [{ uses: "actions/checkout@v4" }] } } }), "j");
    fs.mkdirSync(opts.workspace, { recursive: true });
    fs.writeFileSync(path.join(opts.workspace, "stray"), "");
    const r = await runJob(opts);
    assert.equal(r.status, "success", r.steps[0].stderr);
    assert.ok(!fs.existsSync(path.join(opts.workspace, "stray")));
  });

  it("GITHUB_OUTPUT feeds a later step's if: steps.x.outputs.status != '0'", async () => {
    const spec = (status: number) =>
      workflow({
        on,
        jobs: {
          review: {
            "runs-on": "x",
            steps: [
              { name: "review", id: "review", run: `set +e\n(exit ${status})\necho "status=$?" >> "$GITHUB_OUTPUT"` },
              { name: "fail on a failed review", if: "steps.review.outputs.status != '0'", run: 'echo "exited ${{ steps.review.outputs.status }}"\nexit 1' },
            ],
          },
        },
      });
    const ok = await runJob(options(spec(0), "review"));
    assert.deepEqual(steps(ok), ["review: success", "fail on a failed review: skipped"]);
    assert.equal(ok.status, "success");
    assert.deepEqual(ok.steps[0].outputs, { status: "0" });
    const bad = await runJob(options(spec(3), "review"));
    assert.deepEqual(steps(bad), ["review: success", "fail on a failed review: failure"]);
    assert.equal(bad.steps[1].stdout, "exited 3\n");
    assert.equal(bad.status, "failure");
  });

  it("after a failure, only failure() and always() steps run; the job fails", async () => {
    const wf = workflow({
      on,
      jobs: {
        j: {
          "runs-on": "x",
          steps: [
            { name: "fails", run: "echo before; exit 1; echo never" },
            { name: "plain", run: "echo plain" },
            { name: "on failure", if: "failure()", run: "echo failed" },
            { name: "on success", if: "success()", run: "echo ok" },
            { name: "always", if: "${{ always() }}", run: "echo always" },
            { name: "guarded", if: "github.event_name == 'pull_request'", run: "echo guarded" },
          ],
        },
      },
    });
    const r = await runJob(options(wf, "j"));
    assert.deepEqual(steps(r), ["fails: failure", "plain: skipped", "on failure: success", "on success: skipped", "always: success", "guarded: skipped"]);
    assert.equal(r.steps[0].stdout, "before\n");
    assert.match(r.steps[0].stderr, /Process completed with exit code 1/);
    assert.equal(r.status, "failure");
  });

  it("continue-on-error: the step's outcome is failure, its conclusion success, and the job goes on", async () => {
    const wf = workflow({ on, jobs: { j: { "runs-on": "x", steps: [{ id: "x", run: "exit 2", "continue-on-error": true }, { run: "echo ${{ steps.x.outcome }}/${{ steps.x.conclusion }}" }] } } });
    const r = await runJob(options(wf, "j"));
    assert.equal(r.status, "success");
    assert.equal(r.steps[1].stdout, "failure/success\n");
  });

  it("the default shell is bash -e without pipefail; shell: bash adds it", async () => {
    const wf = workflow({ on, jobs: { j: { "runs-on": "x", steps: [{ name: "default", run: "false | true" }, { name: "bash", shell: "bash", run: "false | true" }] } } });
    const r = await runJob(options(wf, "j"));
    assert.deepEqual(steps(r), ["default: success", "bash: failure"]);
  });

  it("hashFiles in if: a step runs only when the file exists in the workspace", async () => {
    const wf = (write: boolean) => workflow({ on, jobs: { j: { "runs-on": "x", steps: [{ run: write ? "echo x > review.md" : "true" }, { name: "post", if: "always() && hashFiles('review.md') != ''", run: "cat review.md" }] } } });
    assert.deepEqual(steps(await runJob(options(wf(false), "j"))), ["Run true: success", "post: skipped"]);
    assert.deepEqual(steps(await runJob(options(wf(true), "j"))), ["Run echo x > review.md: success", "post: success"]);
  });

  it("env: the machine's, the workflow's, the job's, GITHUB_ENV's and the step's, later wins; the GITHUB_* variables", async () => {
    const wf = workflow({
      on,
      env: { A: "workflow", B: "workflow", C: "workflow" },
      jobs: {
        j: {
          "runs-on": "x",
          env: { B: "job", C: "job" },
          steps: [
            { run: 'echo "D=from-env-file" >> "$GITHUB_ENV"\necho "C=env-file" >> "$GITHUB_ENV"\nmkdir -p "$RUNNER_TEMP/bin" && echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"' },
            { env: { C: "step" }, run: 'echo "$MACHINE $A $B $C $D ${{ env.D }}"\necho "$CI $GITHUB_EVENT_NAME $GITHUB_REPOSITORY $GITHUB_REF $GITHUB_SERVER_URL $GITHUB_RUN_ID"\ntest "$GITHUB_WORKSPACE" = "$PWD"\ntest "$GITHUB_SHA" = "${{ github.sha }}"\ncase "$PATH" in "$RUNNER_TEMP/bin:"*) ;; *) exit 9;; esac' },
          ],
        },
      },
    });
    const opts = options(wf, "j");
    const r = await runJob({ ...opts, env: { ...opts.env, MACHINE: "machine" } });
    assert.equal(r.status, "success", r.steps.map((s) => s.stderr).join("\n"));
    assert.deepEqual(r.steps[1].stdout.split("\n"), ["machine workflow job step from-env-file from-env-file", "true pull_request home/fleet refs/pull/7/merge https://github.com 1", ""]);
  });

  it("secrets and vars: a missing one is empty; a secret's value is masked in the output", async () => {
    const wf = workflow({
      on,
      jobs: { j: { "runs-on": "x", env: { TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}", URL: "${{ vars.PULUMI_BACKEND_URL }}", PASS: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" }, steps: [{ run: 'echo "[$TOKEN] [$URL] [$PASS]"' }] } },
    });
    const r = await runJob({ ...options(wf, "j"), secrets: { PULUMI_CONFIG_PASSPHRASE: "hunter2" } });
    assert.equal(r.steps[0].stdout, "[] [] [***]\n");
  });

  it("a job's if: is evaluated first: a fork's pull request skips the job, and no step runs", async () => {
    const wf = workflow({ on, jobs: { review: { if: "github.event.pull_request.head.repo.full_name == github.repository", "runs-on": "x", steps: [{ run: "exit 1" }] } } });
    const fork = { pull_request: { ...PR_PAYLOAD.pull_request, head: { ref: "feature", repo: { full_name: "stranger/fleet" } } } };
    const r = await runJob({ ...options(wf, "review"), event: { name: "pull_request", payload: fork } });
    assert.equal(r.status, "skipped");
    assert.deepEqual(r.steps, []);
  });

  it("records runs-on, environment, concurrency, needs and permissions, evaluated with the matrix", async () => {
    const wf = workflow({
      on,
      permissions: { contents: "read" },
      concurrency: { group: "wf" },
      jobs: {
        up: {
          name: "up ${{ matrix.stack }}",
          needs: "build",
          strategy: { matrix: { stack: ["mainpc", "pc2"] } },
          "runs-on": ["self-hosted", "${{ matrix.stack }}"],
          environment: "${{ matrix.stack }}",
          concurrency: { group: "deploy-${{ matrix.stack }}", "cancel-in-progress": false },
          steps: [{ run: "true" }],
        },
      },
    });
    const r = await runJob({ ...options(wf, "up"), matrix: { stack: "pc2" } });
    assert.deepEqual(
      { name: r.name, runsOn: r.runsOn, environment: r.environment, concurrency: r.concurrency, needs: r.needs, permissions: r.permissions },
      { name: "up pc2", runsOn: ["self-hosted", "pc2"], environment: "pc2", concurrency: { group: "deploy-pc2", "cancel-in-progress": false }, needs: ["build"], permissions: { contents: "read" } },
    );
    await assert.rejects(runJob({ ...options(wf, "up"), matrix: { stack: "pc3" } }), /matrix\.stack=pc3 is not one of the job's \(mainpc, pc2\)/);
    await assert.rejects(runJob(options(wf, "up")), /has a matrix \(stack\): pass opts\.matrix/);
  });

  it("rejects an event the workflow does not run on, and a push to a branch it filters out", async () => {
    const wf = workflow({ on: { push: { branches: ["main"] }, workflow_dispatch: null }, jobs: { j: { "runs-on": "x", steps: [{ run: "true" }] } } });
    await assert.rejects(runJob(options(wf, "j")), /does not run on pull_request; on: push, workflow_dispatch/);
    const o = origin();
    await assert.rejects(runJob({ ...options(wf, "j"), event: { name: "push", payload: {} }, repo: { origin: o.dir, sha: o.shas[2], ref: "refs/heads/feature" } }), /does not run on a push to refs\/heads\/feature \(on\.push\.branches: main\)/);
  });

  it("rejects an action it does not know, naming it, before any step runs", async () => {
    const wf = workflow({ on, jobs: { j: { "runs-on": "x", steps: [{ run: "touch ran" }, { uses: "actions/cache@v4", with: { path: "x", key: "k" } }] } } });
    const opts = options(wf, "j");
    await assert.rejects(runJob(opts), /the action actions\/cache@v4 is not one this runner knows/);
    assert.ok(!fs.existsSync(path.join(opts.workspace, "ran")));
  });

  it("setup-node, setup-go and setup-python: the machine's own tools, recorded with a note", async () => {
    const wf = workflow({ on, jobs: { j: { "runs-on": "x", steps: [{ uses: "actions/setup-node@v4", with: { "node-version": 20, cache: "npm" } }] } } });
    const r = await runJob(options(wf, "j"));
    assert.equal(r.steps[0].outcome, "success");
    assert.match(r.steps[0].note ?? "", /^actions\/setup-node@v4 \(node-version: 20, cache: npm\) not run: the machine's own node: v\d+/);
  });

  describe("github-script: ci.yml's review comment", () => {
    // The post step exactly as ci.yml has it, after a step that writes review.md.
    const ciPost = (YAML.parse(fs.readFileSync(path.join(REPO, ".github/workflows/ci.yml"), "utf8")).jobs.review.steps as { uses?: string }[]).find((s) => s.uses?.startsWith("actions/github-script@"));
    const wf = (body: string) =>
      workflow({ on, jobs: { review: { strategy: { matrix: { stack: ["mainpc", "pc2"] } }, "runs-on": "x", steps: [{ uses: "actions/checkout@v4" }, { run: `printf '%s\\n' '<!-- fleet-review:\${{ matrix.stack }} -->' '${body}' > review.md` }, ciPost] } } });

    it("creates the comment, then on the next push updates it in place; a person's comment with the marker is left alone", async () => {
      const opts = options(wf("first"), "review", { matrix: { stack: "mainpc" } });
      const gh = opts.github;
      gh.addComment(7, "<!-- fleet-review:mainpc --> quoted by a person", { login: "someone", type: "User" });
      gh.addComment(7, "<!-- fleet-review:pc2 -->\nthe other stack's");
      const envBefore = { ...process.env };
      const cwdBefore = process.cwd();
      const first = await runJob(opts);
      assert.equal(first.status, "success", first.steps.map((s) => s.stderr).join("\n"));
      assert.deepEqual({ ...process.env }, envBefore, "process.env is restored");
      assert.equal(process.cwd(), cwdBefore);
      const mine = () => gh.comments.filter((c) => c.user.type === "Bot" && c.body.startsWith("<!-- fleet-review:mainpc -->"));
      assert.deepEqual(mine().map((c) => c.body), ["<!-- fleet-review:mainpc -->\nfirst\n"]);
      assert.deepEqual(gh.calls.map((c) => c.method), ["issues.listComments", "issues.createComment"]);
      assert.deepEqual(gh.calls[0].params, { owner: "home", repo: "fleet", issue_number: 7, per_page: 100, page: 1 });

      const second = await runJob({ ...opts, workflowFile: wf("second") });
      assert.equal(second.status, "success", second.steps.map((s) => s.stderr).join("\n"));
      assert.deepEqual(mine().map((c) => c.body), ["<!-- fleet-review:mainpc -->\nsecond\n"], "the same comment, updated");
      assert.equal(gh.comments.length, 3);
      assert.deepEqual(gh.calls.slice(2).map((c) => [c.method, c.params.comment_id]), [["issues.listComments", undefined], ["issues.updateComment", mine()[0].id]]);
    });

    it("pages through more than 100 comments to find its own", async () => {
      const opts = options(wf("again"), "review", { matrix: { stack: "pc2" } });
      const old = opts.github.addComment(7, "<!-- fleet-review:pc2 -->\nold");
      for (let i = 0; i < 150; i++) opts.github.addComment(7, `chatter ${i}`, { login: "someone", type: "User" });
      const r = await runJob(opts);
      assert.equal(r.status, "success", r.steps.map((s) => s.stderr).join("\n"));
      assert.equal(old.body, "<!-- fleet-review:pc2 -->\nagain\n");
      assert.deepEqual(opts.github.calls.map((c) => `${c.method} ${c.params.page ?? ""}`), ["issues.listComments 1", "issues.listComments 2", "issues.updateComment "]);
    });
  });

  it("github-script: a thrown error or core.setFailed fails the step; the return value is the result output", async () => {
    const script = (s: string) => ({ uses: "actions/github-script@v7", with: { script: s } });
    const wf = workflow({ on, jobs: { j: { "runs-on": "x", steps: [{ id: "r", ...script("core.info(process.env.GITHUB_EVENT_NAME); return { n: context.payload.pull_request.number }") }, script("throw new Error('boom')"), { if: "always()", ...script("core.setFailed('no')") }, { if: "always()", ...script("await github.rest.issues.listComments({ owner: 'x', repo: 'y', issue_number: 1 })") }] } } });
    const r = await runJob(options(wf, "j"));
    assert.deepEqual(r.steps.map((s) => s.outcome), ["success", "failure", "failure", "failure"]);
    assert.equal(r.steps[0].stdout, "pull_request\n");
    assert.deepEqual(r.steps[0].outputs, { result: '{"n":7}' });
    assert.match(r.steps[1].stderr, /Unhandled error: Error: boom/);
    assert.match(r.steps[2].stdout, /::error::no/);
    assert.match(r.steps[3].stderr, /Not Found: issues\.listComments on x\/y/);
  });

  it("github-script: drift.yml's issue is opened once, then commented on, after a failed preview", async () => {
    const drift = YAML.parse(fs.readFileSync(path.join(REPO, ".github/workflows/drift.yml"), "utf8")).jobs.drift.steps as { uses?: string }[];
    const open = drift.find((s) => s.uses?.startsWith("actions/github-script@"));
    const wf = workflow({ on: { schedule: [{ cron: "17 5 * * *" }] }, jobs: { drift: { strategy: { matrix: { stack: ["mainpc", "pc2"] } }, "runs-on": "x", steps: [{ id: "preview", run: "exit 1" }, open] } } });
    const opts = { ...options(wf, "drift"), event: { name: "schedule" as const, payload: {} }, matrix: { stack: "pc2" } };
    opts.github.addIssue("drift: pc2 differs from main", "closed long ago", ["drift"], "closed");
    await runJob(opts);
    await runJob(opts);
    const issues = opts.github.issues.filter((i) => i.state === "open");
    assert.deepEqual(issues.map((i) => [i.title, i.labels]), [["drift: pc2 differs from main", [{ name: "drift" }]]]);
    assert.match(issues[0].body, /^https:\/\/github\.com\/home\/fleet\/actions\/runs\/1\n\n\(no review\)$/);
    assert.deepEqual(opts.github.comments.map((c) => c.issue_number), [issues[0].number]);
  });

  it("drift.yml's real job opens no drift issue when what fails is not the preview (npm ci here)", async () => {
    const sha = gitIn(REPO, "rev-parse", "HEAD");
    const bin = tmp();
    fs.writeFileSync(path.join(bin, "npm"), '#!/bin/sh\necho "stand-in: npm $* fails" >&2\nexit 1\n', { mode: 0o755 });
    const o = options(path.join(REPO, ".github/workflows/drift.yml"), "drift", { repo: { origin: REPO, sha, ref: "refs/heads/main" }, matrix: { stack: "pc2" }, event: { name: "schedule", payload: {} } });
    const r = await runJob({ ...o, env: { ...o.env, PATH: `${bin}:${o.env.PATH}` } });
    assert.equal(r.status, "failure");
    assert.deepEqual(o.github.issues, [], "no issue for a failure that is not drift");
    assert.equal(r.steps.find((s) => s.id === "preview")?.outcome, "skipped");
  });

  it("ci.yml's real review job is skipped for a fork's pull request", async () => {
    const fork = { pull_request: { ...PR_PAYLOAD.pull_request, head: { ref: "x", repo: { full_name: "stranger/fleet" } } } };
    const r = await runJob({ ...options(path.join(REPO, ".github/workflows/ci.yml"), "review"), matrix: { stack: "mainpc" }, event: { name: "pull_request", payload: fork } });
    assert.equal(r.status, "skipped");
    assert.deepEqual(r.runsOn, ["self-hosted", "mainpc"]);
  });

  it("ci.yml's real review job, with npm stood in: posts the review, updates it on the next push, fails on a non-zero status", async () => {
    // The project at its current commit is the origin; `npm` is a stand-in that installs nothing
    // and, as `fleet review`, writes review.md with the marker and exits REVIEW_STATUS.
    const sha = gitIn(REPO, "rev-parse", "HEAD");
    const bin = tmp();
    fs.writeFileSync(
      path.join(bin, "npm"),
      '#!/bin/bash\ncase "$*" in\n  ci|"run toolchain") echo "stand-in: npm $*" ;;\n  "run --silent fleet -- review --stack "*) printf \'<!-- fleet-review:%s -->\\nreview %s\\n\' "$7" "$REVIEW_STATUS" > "${10}"; exit "$REVIEW_STATUS" ;;\n  *) echo "unexpected: npm $*" >&2; exit 99 ;;\nesac\n',
      { mode: 0o755 },
    );
    const base = options(path.join(REPO, ".github/workflows/ci.yml"), "review", { repo: { origin: REPO, sha, ref: "refs/pull/7/merge" }, matrix: { stack: "mainpc" }, vars: { PULUMI_BACKEND_URL: "file:///srv/fleet-state" } });
    const machine = (status: number) => ({ ...base.env, PATH: `${bin}:${base.env.PATH}`, REVIEW_STATUS: String(status) });
    const ok = await runJob({ ...base, env: machine(0) });
    assert.equal(ok.status, "success", ok.steps.map((s) => s.stdout + s.stderr).join("\n"));
    assert.deepEqual(steps(ok), ["Run actions/checkout@v4: success", "Run npm ci: success", "Run npm run toolchain: success", "fleet review: success", "post or update the review comment: success", "fail on a failed preview or a policy violation: skipped"]);
    assert.equal(gitIn(base.workspace, "rev-parse", "HEAD"), sha);
    assert.deepEqual(base.github.comments.map((c) => c.body), ["<!-- fleet-review:mainpc -->\nreview 0\n"]);
    const bad = await runJob({ ...base, env: machine(2) });
    assert.equal(bad.status, "failure");
    assert.deepEqual(bad.steps.slice(3).map((s) => s.outcome), ["success", "success", "failure"]);
    assert.match(bad.steps[5].stdout, /::error::fleet review of mainpc exited 2 \(see the comment\)/);
    assert.deepEqual(base.github.comments.map((c) => c.body), ["<!-- fleet-review:mainpc -->\nreview 2\n"], "one comment, updated");
  });

  it("every step of every job of the project's workflows is one it can run", () => {
    const dir = path.join(REPO, ".github/workflows");
    const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
    assert.ok(files.length >= 3);
    assert.deepEqual(files.flatMap((f) => unsupported(path.join(dir, f))), []);
  });
});
