import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { parseDigest, policyResults, PolicyResults } from "../review/preview";
import { renderMarkdown, renderText } from "../review/render";
import { summarise } from "../review/summary";
import { CliError, stackOption } from "./args";
import { defineCommand } from "./command";
import { fleetEnv, runPulumi } from "./pulumi";

/** Runs the preview the review reads, in the project directory, with fleet's environment (cli/pulumi.ts). */
function preview(stack: string, withPolicy: boolean, policyConfig: string | undefined, build: boolean, refresh: boolean, projectDir: string): { digest: string; events: string; status: number; stderr: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-review-"));
  const eventLog = path.join(tmp, "events.jsonl");
  try {
    // --show-sames: the digest then lists every resource, so unchanged services are named too.
    const args = ["preview", "--json", "--show-sames", "--stack", stack, "--non-interactive", "--event-log", eventLog];
    if (withPolicy) args.push("--policy-pack", path.join(projectDir, "policy"));
    if (withPolicy && policyConfig) args.push("--policy-pack-config", path.resolve(policyConfig));
    if (build) args.push("--config-file", buildingStackFile(projectDir, stack, tmp));
    // --refresh reads the running containers first (without writing state): what was changed by hand shows.
    if (refresh) args.push("--refresh");
    // --event-log (where the policy results are: the JSON digest leaves them out) is a debug flag.
    const r = runPulumi(args, { cwd: projectDir, env: { ...fleetEnv(), PULUMI_DEBUG_COMMANDS: "true" } });
    return { digest: r.stdout, events: fs.existsSync(eventLog) ? fs.readFileSync(eventLog, "utf8") : "", status: r.status, stderr: r.stderr };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * A copy of the stack's file with `fleet:buildOnPreview: "true"`, for `--config-file`: the preview
 * builds (and pushes) the changed images without the stack file being edited.
 */
function buildingStackFile(projectDir: string, stack: string, tmp: string): string {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  const doc = YAML.parseDocument(readOrFail(file, "stack file"));
  doc.setIn(["config", "fleet:buildOnPreview"], "true");
  const copy = path.join(tmp, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(copy, doc.toString());
  return copy;
}

/** `fleet review`: what a pull request changes on one stack, for the people reviewing it. */
export const command = defineCommand({
  name: "review",
  summary: "summarise `pulumi preview` for a reviewer: digests, restarts and why, policy results",
  details: [
    "Runs `pulumi preview --json` on S and prints, per service, its image digest old -> new (or what",
    "makes it rebuild) and why its container restarts; the families rebuilt and whom they drag;",
    "totals; and with --policy the results of the policy pack in policy/.",
    "Exit status: 0 when the preview succeeds and no mandatory policy is violated, 1 otherwise.",
  ].join("\n"),
  options: {
    stack: stackOption("the stack to review, like mainpc"),
    markdown: { value: "FILE", description: "also write a pull-request comment body to FILE" },
    json: { description: "print the review as JSON instead of text" },
    policy: { description: "run the policy pack (policy/) with the preview and report its results" },
    "policy-config": { value: "FILE", description: "with --policy: a policy pack config (pulumi --policy-pack-config)" },
    build: { description: "build the changed images during the preview, so new digests are real (the stack file is not changed)" },
    refresh: { description: "read the running containers first, so a change made by hand shows (drift)" },
    from: { value: "FILE", description: "summarise a recorded `pulumi preview --json` instead of running one" },
    events: { value: "FILE", description: "with --from: the event log (--event-log) that holds its policy results" },
  },
  async run(opts) {
    const { stack, from, events: eventsFile } = opts;
    if (eventsFile && !from) throw new CliError("review: --events goes with --from (a recorded preview)");
    if (opts["policy-config"] !== undefined && !opts.policy) throw new CliError("review: --policy-config goes with --policy");

    let digestText: string;
    let events = "";
    let status = 0;
    let stderr = "";
    if (from) {
      digestText = readOrFail(from, "--from");
      events = eventsFile ? readOrFail(eventsFile, "--events") : "";
    } else {
      ({ digest: digestText, events, status, stderr } = preview(stack, opts.policy, opts["policy-config"], opts.build, opts.refresh, process.cwd()));
    }

    let digest;
    try {
      digest = parseDigest(digestText);
    } catch (e) {
      throw new CliError(`review: pulumi preview on stack ${stack} failed (exit ${status}): ${(stderr.trim() || (e as Error).message).split("\n").slice(-5).join(" | ")}`);
    }
    const policy: PolicyResults | undefined = policyResults(events);
    const review = summarise(stack, digest, policy);

    const markdown = opts.markdown;
    if (markdown) fs.writeFileSync(markdown, renderMarkdown(review));
    process.stdout.write(opts.json ? JSON.stringify(review, null, 2) + "\n" : renderText(review));
    if (status !== 0 && stderr.trim()) process.stderr.write(stderr);
    const blocked = (policy?.violations ?? []).some((v) => v.level === "mandatory");
    return status !== 0 || blocked || review.errors.length > 0 ? 1 : 0;
  },
});

function readOrFail(file: string, option: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`review: ${option} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
