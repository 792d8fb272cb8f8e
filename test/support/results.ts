import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { headCommit } from "../../source/git";
import { REPO, testsOf } from "./project";

/**
 * The one writer of `results/<name>.json`, for every suite, benchmark and measurement: what was
 * measured, with the commit it ran on, the machine, when, and whether the run passed (a failed run
 * says so instead of looking like a good one). test/unit/records.test.ts checks that nothing else
 * writes there.
 */
export function writeRecord(name: string, passed: boolean, measured: Readonly<Record<string, unknown>>, opts: { readonly notPassed?: readonly string[]; readonly commit?: string } = {}): string {
  const notPassed = opts.notPassed ?? [];
  const record = {
    // A run that takes long names the commit it started from (STARTED_AT): HEAD may have moved since.
    commit: opts.commit ?? STARTED_AT,
    machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    at: new Date().toISOString(),
    passed,
    ...(notPassed.length ? { notPassed } : {}),
    ...measured,
  };
  const file = path.join(REPO, "results", `${name}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(record, null, 2) + "\n");
  return file;
}

/** writeRecord from a mocha suite's `after` hook: it passed when every test of the suite (and of the suites in it) passed. */
export function writeResults(name: string, suite: Mocha.Suite, measured: Readonly<Record<string, unknown>>): string {
  const failed = testsOf(suite).filter((t) => t.state !== "passed").map((t) => t.fullTitle());
  return writeRecord(name, failed.length === 0, measured, { notPassed: failed });
}

function checkoutCommit(): string {
  const commit = headCommit(REPO);
  return commit === "unknown" ? "unknown (not a git checkout)" : commit;
}

/** The checkout's commit when this process loaded this file, before any suite cloned it: what its suites ran. */
const STARTED_AT = checkoutCommit();
