import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { measuredDoc, readRecords } from "../../bench/measured";
import { REPO } from "../support/project";

/** The figures the documentation gives are the records' own: docs/measured.md is generated from results/. */
describe("docs/measured.md", () => {
  it("is what `npm run measured` makes from the committed records", () => {
    const page = fs.readFileSync(path.join(REPO, "docs", "measured.md"), "utf8");
    assert.ok(page === measuredDoc(readRecords()), "docs/measured.md differs from the records in results/: run `npm run measured` and commit the page");
  });

  it("names the file and the commit of each record it shows", () => {
    const page = measuredDoc(readRecords());
    for (const [name, r] of Object.entries(readRecords())) {
      assert.ok(page.includes(`results/${name}.json`), `${name}: not on the page`);
      if (r.commit) assert.ok(page.includes(`commit ${r.commit.slice(0, 7)}`), `${name}: its commit is not on the page`);
    }
  });
});
