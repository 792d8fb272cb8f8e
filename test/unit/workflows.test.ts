import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { REPO } from "../support/project";

const workflow = (name: string) => parse(fs.readFileSync(path.join(REPO, ".github/workflows", name), "utf8"));

describe("workflows", () => {
  it("review each machine's stack on its own runner, never for a fork, with the review command the tests run", () => {
    const review = workflow("ci.yml").jobs.review;
    assert.equal(review.if, "github.event.pull_request.head.repo.full_name == github.repository");
    assert.deepEqual(review.strategy.matrix.stack, ["mainpc", "pc2"]);
    assert.deepEqual(review["runs-on"], ["self-hosted", "${{ matrix.stack }}"]);
    const steps: { run?: string; uses?: string; with?: { script?: string } }[] = review.steps;
    assert.ok(steps.some((s) => /npm run --silent fleet -- review --stack "\$\{\{ matrix\.stack \}\}" --policy --markdown review\.md/.test(s.run ?? "")));
    const post = steps.find((s) => s.uses?.startsWith("actions/github-script@"));
    assert.match(post?.with?.script ?? "", /updateComment[\s\S]*createComment/, "updates its comment, else creates one");
    assert.match(post?.with?.script ?? "", /fleet-review:\$\{process\.env\.STACK\}/, "found by the marker renderMarkdown writes");
  });

  it("run the unit tests and lint Dockerfiles and workflows on every pull request", () => {
    const ci = workflow("ci.yml");
    assert.ok("pull_request" in ci.on);
    const runs = (job: string) => ci.jobs[job].steps.map((s: { run?: string }) => s.run ?? "").join("\n");
    assert.match(runs("test"), /npm test/);
    assert.match(runs("lint"), /hadolint dockerfiles\/base-cpu-pydeps\.Dockerfile dockerfiles\/family\.Dockerfile dockerfiles\/service\.Dockerfile/);
    assert.match(runs("lint"), /go-tool\.sh actionlint github\.com\/rhysd\/actionlint v1\.7\.12/);
  });

  it("deploy main per machine behind the stack's environment, mainpc before pc2, one deploy of a stack at a time", () => {
    const d = workflow("deploy.yml");
    assert.deepEqual(d.on.push.branches, ["main"]);
    assert.deepEqual(Object.keys(d.jobs), ["mainpc", "pc2"]);
    assert.equal(d.jobs.pc2.needs, "mainpc", "pc2 runs the digests mainpc's update exported");
    for (const stack of ["mainpc", "pc2"]) {
      const job = d.jobs[stack];
      assert.equal(job.environment, stack);
      assert.deepEqual(job["runs-on"], ["self-hosted", stack]);
      assert.deepEqual(job.concurrency, { group: `deploy-${stack}`, "cancel-in-progress": false });
      const runs = job.steps.map((s: { run?: string }) => s.run ?? "").join("\n");
      assert.match(runs, new RegExp(`pulumi up --yes --stack ${stack} --non-interactive --policy-pack policy`));
      assert.match(runs, /pulumi whoami -v/, "the log names the backend");
    }
  });

  it("give every self-hosted job the shared backend and the passphrase", () => {
    const jobs = [workflow("deploy.yml"), workflow("ci.yml").jobs.review, workflow("drift.yml").jobs.drift];
    for (const j of jobs) {
      assert.equal(j.env.PULUMI_BACKEND_URL, "${{ vars.PULUMI_BACKEND_URL }}");
      assert.equal(j.env.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
      assert.equal(j.env.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
    }
  });

  it("check drift on a schedule and fail on any change", () => {
    const d = workflow("drift.yml");
    assert.ok(d.on.schedule[0].cron);
    assert.match(d.jobs.drift.steps.map((s: { run?: string }) => s.run ?? "").join("\n"), /pulumi preview --refresh --expect-no-changes/);
  });

  it("name only files of the project that exist (a glob matches at least one)", () => {
    const top = new Set(fs.readdirSync(REPO));
    for (const name of fs.readdirSync(path.join(REPO, ".github/workflows"))) {
      const text = JSON.stringify(workflow(name));
      // Paths inside the project named by steps: scripts/x.sh, dockerfiles/*.Dockerfile, policy, ...
      const named = [...text.matchAll(/(?<![\w./-])([a-z][\w-]*\/[\w.*-]+(?:\/[\w.*-]+)*)/g)].map((m) => m[1]).filter((p) => top.has(p.split("/")[0]));
      for (const p of named) {
        const dir = path.join(REPO, path.dirname(p));
        const re = new RegExp(`^${path.basename(p).replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
        assert.ok(fs.existsSync(dir) && fs.readdirSync(dir).some((f) => re.test(f)), `${name} names ${p}, which matches no file of the project`);
      }
    }
  });
});
