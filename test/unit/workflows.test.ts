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
    assert.match(runs("lint"), /hadolint dockerfiles\/base-\*\.Dockerfile dockerfiles\/family-\*\.Dockerfile dockerfiles\/service\.Dockerfile/);
    assert.match(runs("lint"), /go-tool\.sh actionlint github\.com\/rhysd\/actionlint v1\.7\.12/);
  });

  it("deploy main per machine behind the stack's environment, one deploy of a stack at a time", () => {
    const d = workflow("deploy.yml");
    assert.deepEqual(d.on.push.branches, ["main"]);
    const up = d.jobs.up;
    assert.equal(up.environment, "${{ matrix.stack }}");
    assert.deepEqual(up.concurrency, { group: "deploy-${{ matrix.stack }}", "cancel-in-progress": false });
    assert.match(up.steps.map((s: { run?: string }) => s.run ?? "").join("\n"), /pulumi up --yes --stack "\$\{\{ matrix\.stack \}\}" --non-interactive --policy-pack policy/);
  });

  it("check drift on a schedule and fail on any change", () => {
    const d = workflow("drift.yml");
    assert.ok(d.on.schedule[0].cron);
    assert.match(d.jobs.drift.steps.map((s: { run?: string }) => s.run ?? "").join("\n"), /pulumi preview --refresh --expect-no-changes/);
  });
});
