import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { must } from "../../proc";
import { REPO } from "../support/project";

/**
 * Records cannot lie: every results file in the repository is what a command wrote, naming the
 * commit it measured, the machine and whether its run passed (test/support/results.ts writes them).
 */
describe("results records", () => {
  const tracked = must("git", ["ls-files", "results"], { cwd: REPO }).stdout.split("\n").filter((f) => f.endsWith(".json"));
  // Written by commands that ran before records named their commit; each is rewritten, in the
  // shape checked here, the next time its command runs on a machine that can run it.
  const PREDATES: Readonly<Record<string, string>> = {
    "results/cuda-sizes.json": "npm run test:cuda needs a GPU host",
    "results/image-sizes.json": "npm run bench:size rebuilds every family twice (about 15 minutes)",
  };

  it("holds at least the suites' and the bench's records", () => {
    for (const f of ["results/bench.json", "results/faults.json", "results/e2e-home.json", "results/e2e-local.json", "results/e2e-review.json", "results/e2e-rollback.json", "results/e2e-supply.json"]) assert.ok(tracked.includes(f), `${f} is committed`);
  });

  for (const file of tracked.filter((f) => !(f in PREDATES))) {
    it(`${file} names its commit, its machine and whether its run passed`, () => {
      const record = JSON.parse(fs.readFileSync(path.join(REPO, file), "utf8")) as { commit?: unknown; machine?: unknown; passed?: unknown; notPassed?: unknown };
      assert.match(String(record.commit), /^[0-9a-f]{40}$/, `${file}: commit`);
      assert.ok(record.machine, `${file}: machine`);
      assert.equal(typeof record.passed, "boolean", `${file}: passed`);
      if (record.passed === false) assert.ok(record.notPassed || (record as { problems?: unknown }).problems, `${file}: a failed run says what failed`);
    });
  }

  // Files that read results/ and write elsewhere.
  const READERS: Readonly<Record<string, string>> = {
    "bench/measured.ts": "reads results/, writes docs/measured.md",
  };

  it("is written only through the one record writer", () => {
    const sources = must("git", ["ls-files", "*.ts"], { cwd: REPO }).stdout.split("\n").filter(Boolean);
    const writers = sources.filter((f) => {
      if (f === "test/support/results.ts" || f === "test/unit/records.test.ts" || f in READERS) return false;
      const text = fs.readFileSync(path.join(REPO, f), "utf8");
      return /["'`/]results["'`/]/.test(text) && /\.json/.test(text) && /(writeFileSync|appendFileSync)\(/.test(text);
    });
    const bypassing = writers.filter((f) => !/\bwrite(Record|Results)\(/.test(fs.readFileSync(path.join(REPO, f), "utf8")));
    assert.deepEqual(bypassing, [], "these write into results/ without writeRecord or writeResults");
  });
});
