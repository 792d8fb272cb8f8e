/**
 * `npm run measured`: writes docs/measured.md from the records in results/, so every figure the
 * documentation gives is one a command wrote (test/unit/measured.test.ts fails when the page and
 * the records disagree). The prose here explains what was measured; it carries no numbers.
 */
import * as fs from "fs";
import * as path from "path";
import { REPO } from "../test/support/project";
import { Row, Verdict } from "./goals";

/** The fields every record has (test/support/results.ts). */
interface Record_ {
  readonly commit: string;
  readonly machine: string | { readonly cpu: string; readonly cores: number; readonly memoryGiB: number };
  readonly at?: string;
  readonly passed: boolean;
  readonly [key: string]: unknown;
}

/** The records the page is made from, by file name without `.json`; a missing file is left out. */
export function readRecords(dir: string = path.join(REPO, "results")): Readonly<Record<string, Record_>> {
  const out: Record<string, Record_> = {};
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".json")).sort()) out[f.slice(0, -5)] = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
  return out;
}

const table = (head: readonly string[], rows: readonly (readonly (string | number)[])[]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

const machineOf = (r: Record_) => (typeof r.machine === "string" ? r.machine : `${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.cpu}`);

/** One line naming where a section's figures come from. */
const source = (file: string, r: Record_) =>
  `From \`results/${file}.json\`: commit ${r.commit.slice(0, 7)}, ${machineOf(r)}${r.at ? `, ${r.at.slice(0, 16).replace("T", " ")} UTC` : ""}; the run ${r.passed ? "passed" : "did NOT pass"}.`;

/** When a run measured one set of rows and kept the other (`--scale-only`, `--catalog-only`): where each comes from. */
function rowsFromLine(r: Record_): string[] {
  const from = r.rowsFrom as Record<string, { commit: string; at: string }> | undefined;
  if (!from) return [];
  const when = (x: { commit: string; at: string }) => `commit ${x.commit.slice(0, 7)}, ${x.at.slice(0, 16).replace("T", " ")} UTC`;
  return ["", `Two runs: the 10-service rows were measured at ${when(from["10 services"])}; the scale rows at ${when(from.scale)}.`];
}

function benchSection(r: Record_): string[] {
  const rows = r.rows as Row[];
  const ratios = r.ratios as Record<string, Verdict>;
  const out = [
    "## The main job against bake + compose (`npm run bench`)",
    "",
    "The fleet's `pulumi up --skip-preview` against `docker buildx bake` plus `docker compose up -d --wait`, on the",
    "same resolved stack (`bench/peerFiles.ts`), the bench's own Docker engine and BuildKit daemon (emptied for",
    "each cold run), one after the other. Before each row the bench waits (up to two minutes) for the machine to",
    "settle, and records the load the row starts at and ends at; a ratio of rows that started at different",
    "loads gets no verdict (`bench/goals.ts`), unless it meets its goal with its first row at the higher load.",
    "",
    source("bench", r),
    ...rowsFromLine(r),
    "",
    table(
      ["tool", "services", "case", "seconds", "images built", "containers replaced", "load at start (1, 5 min)", "load at end"],
      rows.map((x) => [x.tool, x.services, x.case, x.seconds.toFixed(1), x.imagesBuilt, x.containersReplaced, x.loadAtStart ? x.loadAtStart.join(", ") : "not recorded", x.load ? x.load.join(", ") : "not recorded"]),
    ),
    "",
    table(
      ["goal", "value", "target", "met"],
      Object.entries(ratios).map(([k, v]) => [k, v.value ?? "-", v.goal, v.met === null || v.met === undefined ? `no verdict: ${v.note ?? "not measured"}` : `${v.met ? "yes" : "no"}${v.note ? ` (${v.note})` : ""}`]),
    ),
  ];
  const cold = rows.find((x) => x.tool === "fleet" && x.case === "cold");
  if (cold?.resources && Object.keys(cold.resources).length) {
    out.push(
      "",
      "Where the fleet's cold run went, per resource type (from the engine's events, whole seconds; resources",
      "overlap, so the sums exceed the run):",
      "",
      table(
        ["resource type", "count", "seconds, summed", "longest"],
        Object.entries(cold.resources)
          .sort((a, b) => b[1].seconds - a[1].seconds)
          .map(([type, t]) => [`\`${type}\``, t.count, t.seconds, t.longest]),
      ),
    );
  }
  const watched = rows.filter((x) => x.outage);
  if (watched.length) {
    out.push(
      "",
      "The changed service's health port, polled every 50 ms while its change was deployed:",
      "",
      table(
        ["tool", "polls", "failed", "longest without an answer (s)"],
        watched.map((x) => [x.tool, x.outage!.polls, x.outage!.failed, x.outage!.longestSeconds]),
      ),
    );
  }
  const breakdown = r.noopBreakdown as { phases?: Record<string, number>; alone?: Record<string, number> } | undefined;
  if (breakdown?.phases) {
    out.push("", "Where a no-op `up` goes (the program marks its phases, `timings.ts`), and what each suspect costs alone:", "");
    out.push(table(["no-op `up`", "seconds"], [...Object.entries(breakdown.phases), ...Object.entries(breakdown.alone ?? {})].map(([k, v]) => [k, v])));
  }
  return out;
}

function sizesSection(r: Record_): string[] {
  const rows = r.rows as { family: string; multiStageBytes: number; singleStageBytes: number; reductionPct: number }[];
  const MB = 1e6;
  return [
    "## Image sizes (`npm run bench:size`)",
    "",
    "Each runtime service image against a single-stage build of the same app on the same family (the plan's",
    "goal: at least 40% smaller). The difference is the compiler toolchain and headers a single-stage build",
    "carries to build any sdist.",
    "",
    "commit" in r && r.commit ? source("image-sizes", r) : `From \`results/image-sizes.json\` (commit ${String(r.revision).slice(0, 7)}).`,
    "",
    table(
      ["family", "multi-stage (MB)", "single-stage (MB)", "reduction"],
      rows.map((x) => [x.family, Math.round(x.multiStageBytes / MB), Math.round(x.singleStageBytes / MB), `${x.reductionPct.toFixed(1)}%`]),
    ),
  ];
}

function cudaSection(r: Record_): string[] {
  const sizes = r.sizes as Record<string, number>;
  return [
    "## Real CUDA images (`npm run test:cuda`)",
    "",
    "The GPU families with their real CUDA locks (not in CI: about 2.5 GB of wheels).",
    "",
    "commit" in r && r.commit ? source("cuda-sizes", r) : `From \`results/cuda-sizes.json\` (${String(r.measured).slice(0, 10)}; cold builds ${r.coldSeconds} s).`,
    "",
    table(["image", "MB"], Object.entries(sizes).map(([k, v]) => [k, v])),
  ];
}

/** A suite's timed updates: every entry with `seconds`, in the order the suite ran them. */
function suiteSection(name: string, title: string, r: Record_): string[] {
  const timed = Object.entries(r).filter(([, v]) => typeof v === "number" || (typeof v === "object" && v !== null && typeof (v as { seconds?: unknown }).seconds === "number"));
  return [
    `## ${title}`,
    "",
    source(name, r),
    "",
    table(
      ["step", "seconds", "images built", "changes"],
      timed.map(([k, v]) => (typeof v === "number" ? [k, v] : [k, (v as { seconds: number }).seconds.toFixed(1), (v as { imagesBuilt?: number }).imagesBuilt ?? "", (v as { changed?: number }).changed ?? ""])),
    ),
  ];
}

function homeSection(r: Record_): string[] {
  const steps = r.steps as { machine: string; readme: boolean; line: string; status: number; seconds: number }[];
  return [
    "## At home, rehearsed (`test/e2e/home.test.ts`)",
    "",
    "Every README line of the home blocks on two engines standing in for mainpc and pc2; the lines that took",
    "10 s or more (the record has every line):",
    "",
    source("e2e-home", r),
    "",
    table(
      ["machine", "line", "exit", "seconds"],
      steps.filter((s) => s.seconds >= 10).map((s) => [s.machine, `\`${s.line.replace(/\|/g, "\\|")}\``, s.status, s.seconds]),
    ),
  ];
}

/** The page, from the records. */
export function measuredDoc(records: Readonly<Record<string, Record_>>): string {
  const parts: string[][] = [
    [
      "# Measured",
      "",
      "Written by `npm run measured` from the records in `results/`, each written by the command named in its",
      "section (`test/support/results.ts`); do not edit by hand. Seconds carry the load of the machine they ran on.",
    ],
  ];
  if (records.bench) parts.push(benchSection(records.bench));
  const suites: [string, string][] = [
    ["e2e-local", "The local stack (`test/e2e/local.test.ts`)"],
    ["e2e-rollback", "Roll back and release (`test/e2e/rollback.test.ts`)"],
    ["faults", "Faults (`test/e2e/faults.test.ts`)"],
    ["e2e-review", "Review and policy (`test/e2e/review.test.ts`)"],
    ["e2e-supply", "Supply chain (`test/e2e/supply.test.ts`)"],
  ];
  for (const [name, title] of suites) if (records[name]) parts.push(suiteSection(name, title, records[name]));
  if (records["e2e-home"]) parts.push(homeSection(records["e2e-home"]));
  if (records["image-sizes"]) parts.push(sizesSection(records["image-sizes"]));
  if (records["cuda-sizes"]) parts.push(cudaSection(records["cuda-sizes"]));
  return `${parts.map((p) => p.join("\n")).join("\n\n")}\n`;
}

if (require.main === module) {
  const file = path.join(REPO, "docs", "measured.md");
  fs.writeFileSync(file, measuredDoc(readRecords()));
  console.log(`wrote ${path.relative(REPO, file)}`);
}
