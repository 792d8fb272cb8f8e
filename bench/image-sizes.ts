/**
 * `npm run bench:size`: how much smaller the multi-stage service image is than a naive
 * single-stage build of the same app on the same family (the plan's goal: at least 40% smaller).
 *
 * For each family (CPU locks, as the local stack builds them) it builds the reference service with
 * dockerfiles/service.Dockerfile and with dockerfiles/service.single-stage.Dockerfile, pulls both
 * and compares their uncompressed sizes. It reports two numbers, because they answer different
 * questions: the whole image (what a machine stores and pulls on first deploy) and the part the
 * service build adds on top of its family (what each service costs once families are shared).
 * Writes results/image-sizes.json and prints a table. `--cold` builds without the layer cache
 * (BuildKit's cache mounts, such as pip's wheel cache, still serve).
 *
 * Needs `npm run infra`.
 */
import * as fs from "fs";
import * as path from "path";
import { docker, engineMissing, imageSize } from "../test/support/docker";
import { BASE_REF_FILE, baseImageRef, buildFamilies, buildService, DOCKERFILES, FAMILY_ORDER } from "../test/support/image-builds";
import { REPO } from "../test/support/project";
import { writeRecord } from "../test/support/results";

const OUT = path.join(REPO, "results", "image-sizes.json");
const GOAL_PCT = 40;
const MB = 1e6;

interface Row {
  family: string;
  familyBytes: number;
  multiStageBytes: number;
  singleStageBytes: number;
  /** 1 - multi/single over the whole image, in percent. */
  reductionPct: number;
  /** The same over the layers the service build adds on top of the family. */
  addedReductionPct: number;
  /** The single-stage image's largest layer: where its extra size comes from. */
  singleStageLargestLayer: { bytes: number; createdBy: string };
  buildSeconds: { family: number; multiStage: number; singleStage: number };
  refs: { family: string; multiStage: string; singleStage: string };
}

/** The largest layer of `ref` (for the single-stage image: the toolchain layer, which dwarfs the family's own). */
async function largestLayer(ref: string): Promise<{ bytes: number; createdBy: string }> {
  const lines = (await docker("history", "--no-trunc", "--human=false", "--format", "{{.Size}}\t{{.CreatedBy}}", ref)).split("\n");
  const layers = lines.map((l) => {
    const [size, ...rest] = l.split("\t");
    return { bytes: Number(size), createdBy: rest.join("\t").replace(/\s+/g, " ").slice(0, 160) };
  });
  return layers.reduce((a, b) => (b.bytes > a.bytes ? b : a));
}

const pct = (small: number, big: number) => Math.round((1 - small / big) * 1000) / 10;

async function main(): Promise<void> {
  const cold = process.argv.includes("--cold");
  const missing = await engineMissing(BASE_REF_FILE);
  if (missing) throw new Error(`bench:size needs the local infrastructure: ${missing}`);

  const t0 = Date.now();
  const families = await buildFamilies("fleet-bench", { noCache: cold, log: (l) => console.error(l) });
  const rows: Row[] = [];
  for (const family of FAMILY_ORDER) {
    const fam = families.get(family)!;
    const multi = await buildService("fleet-bench", family, fam.ref, { noCache: cold });
    const single = await buildService("fleet-bench", family, fam.ref, {
      noCache: cold,
      dockerfile: path.join(DOCKERFILES, "service.single-stage.Dockerfile"),
      suffix: "-single-stage",
    });
    console.error(`built the reference service on ${family}: multi-stage ${multi.seconds.toFixed(1)} s, single-stage ${single.seconds.toFixed(1)} s`);
    for (const ref of [fam.ref, multi.ref, single.ref]) await docker("pull", "-q", ref);
    const [familyBytes, multiStageBytes, singleStageBytes] = await Promise.all([imageSize(fam.ref), imageSize(multi.ref), imageSize(single.ref)]);
    rows.push({
      family,
      familyBytes,
      multiStageBytes,
      singleStageBytes,
      reductionPct: pct(multiStageBytes, singleStageBytes),
      addedReductionPct: pct(multiStageBytes - familyBytes, singleStageBytes - familyBytes),
      singleStageLargestLayer: await largestLayer(single.ref),
      buildSeconds: { family: fam.seconds, multiStage: multi.seconds, singleStage: single.seconds },
      refs: { family: fam.ref, multiStage: multi.ref, singleStage: single.ref },
    });
  }

  const reductions = rows.map((r) => r.reductionPct);
  const summary = {
    goalPct: GOAL_PCT,
    minReductionPct: Math.min(...reductions),
    meanReductionPct: Math.round((reductions.reduce((a, b) => a + b, 0) / reductions.length) * 10) / 10,
    minAddedReductionPct: Math.min(...rows.map((r) => r.addedReductionPct)),
    goalMetOnEveryFamily: reductions.every((r) => r >= GOAL_PCT),
    // Said plainly so the headline number is not over-read.
    note:
      "The reduction is almost entirely the compiler toolchain and headers (build-essential, python3-dev, with recommends and apt lists) " +
      "that a single-stage build must carry to build any sdist; see singleStageLargestLayer. The reference app installs wheels only, so " +
      "its dependency layer is the same size in both builds: a single-stage build written without the toolchain would be about as small.",
  };
  const report = {
    baseImage: baseImageRef(),
    locks: "cpu",
    cold,
    totalBuildSeconds: Math.round((Date.now() - t0) / 100) / 10,
    sizeUnit: "bytes, uncompressed (docker image inspect .Size)",
    summary,
    rows,
  };
  writeRecord("image-sizes", summary.goalMetOnEveryFamily, report);

  const table = rows.map((r) => ({
    family: r.family,
    "family MB": (r.familyBytes / MB).toFixed(1),
    "multi-stage MB": (r.multiStageBytes / MB).toFixed(1),
    "single-stage MB": (r.singleStageBytes / MB).toFixed(1),
    "reduction %": r.reductionPct.toFixed(1),
    "service layers: multi MB": ((r.multiStageBytes - r.familyBytes) / MB).toFixed(2),
    "service layers: single MB": ((r.singleStageBytes - r.familyBytes) / MB).toFixed(1),
  }));
  console.table(table);
  console.log(
    `whole-image reduction: min ${summary.minReductionPct}%, mean ${summary.meanReductionPct}% (goal >= ${GOAL_PCT}%: ${summary.goalMetOnEveryFamily ? "met on every family" : "NOT met on every family"}); ` +
      `layers the service adds: at least ${summary.minAddedReductionPct}% smaller. Written to ${path.relative(REPO, OUT)}`,
  );
  const biggest = rows[0].singleStageLargestLayer;
  console.log(`where the difference comes from: the single-stage's largest layer is ${(biggest.bytes / MB).toFixed(0)} MB: ${biggest.createdBy}`);
  console.log(summary.note);
}

main().catch((err) => {
  console.error(`bench:size: ${(err as Error).message}`);
  process.exit(1);
});
