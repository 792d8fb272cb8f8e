import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { parseDigest, policyResults, PolicyResults } from "../review/preview";
import { renderMarkdown, renderText } from "../review/render";
import { summarise } from "../review/summary";
import { CliError, parseArgs, required } from "./args";
import type { Command } from "./main";

const HELP = `usage: npm run fleet -- review --stack STACK [--policy [--policy-config FILE]] [--markdown FILE] [--json]
  Runs \`pulumi preview --json\` on STACK and prints, per service, its image digest old -> new
  (or what makes it rebuild) and why its container restarts; the families rebuilt and whom they
  drag; totals; and with --policy the results of the policy pack in policy/.
  --markdown FILE   also write a pull-request comment body to FILE
  --json            print the review as JSON instead of text
  --policy          run the policy pack (policy/) with the preview and report its results
  --policy-config FILE  with --policy: a policy pack config (pulumi --policy-pack-config)
  --build           build the changed images during the preview, so new digests are real
                    (the stack file is read with fleet:buildOnPreview true; it is not changed)
  --from FILE       summarise a recorded \`pulumi preview --json\` instead of running one
  --events FILE     with --from: the event log (--event-log) that holds its policy results
Exit status: 0 when the preview succeeds and no mandatory policy is violated, 1 otherwise.`;

/** Runs the preview the review reads, in the project directory, with the toolchain on PATH. */
function preview(stack: string, withPolicy: boolean, policyConfig: string | undefined, build: boolean, projectDir: string): { digest: string; events: string; status: number; stderr: string } {
  const cache = process.env.FLEET_CACHE ?? path.join(os.homedir(), ".cache", "fleet");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-review-"));
  const eventLog = path.join(tmp, "events.jsonl");
  try {
    // --show-sames: the digest then lists every resource, so unchanged services are named too.
    const args = ["preview", "--json", "--show-sames", "--stack", stack, "--non-interactive", "--event-log", eventLog];
    if (withPolicy) args.push("--policy-pack", path.join(projectDir, "policy"));
    if (withPolicy && policyConfig) args.push("--policy-pack-config", path.resolve(policyConfig));
    if (build) args.push("--config-file", buildingStackFile(projectDir, stack, tmp));
    const r = spawnSync("pulumi", args, {
      cwd: projectDir,
      // --event-log (where the policy results are: the JSON digest leaves them out) is a debug flag.
      env: { ...process.env, PATH: `${path.join(cache, "bin")}:${process.env.PATH ?? ""}`, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DEBUG_COMMANDS: "true" },
      encoding: "utf8",
      maxBuffer: 512 * 1024 * 1024,
    });
    if (r.error) throw new CliError(`review: could not run pulumi (${r.error.message}); run \`npm run toolchain\` and \`source scripts/env.sh\``);
    return { digest: r.stdout, events: fs.existsSync(eventLog) ? fs.readFileSync(eventLog, "utf8") : "", status: r.status ?? 1, stderr: r.stderr };
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
export const command: Command = {
  summary: "summarise `pulumi preview` for a reviewer: digests, restarts and why, policy results",
  async run(argv) {
    if (argv.includes("--help")) {
      console.log(HELP);
      return 0;
    }
    const parsed = parseArgs("review", argv, { valued: ["stack", "markdown", "from", "events", "policy-config"], flags: ["json", "policy", "build"] });
    const stack = required("review", parsed, "stack", "the stack to review, like mainpc");
    const from = parsed.values.get("from")?.[0];
    const eventsFile = parsed.values.get("events")?.[0];
    if (eventsFile && !from) throw new CliError("review: --events goes with --from (a recorded preview)");
    if (parsed.values.has("policy-config") && !parsed.flags.has("policy")) throw new CliError("review: --policy-config goes with --policy");

    let digestText: string;
    let events = "";
    let status = 0;
    let stderr = "";
    if (from) {
      digestText = readOrFail(from, "--from");
      events = eventsFile ? readOrFail(eventsFile, "--events") : "";
    } else {
      ({ digest: digestText, events, status, stderr } = preview(stack, parsed.flags.has("policy"), parsed.values.get("policy-config")?.[0], parsed.flags.has("build"), process.cwd()));
    }

    let digest;
    try {
      digest = parseDigest(digestText);
    } catch (e) {
      throw new CliError(`review: pulumi preview on stack ${stack} failed (exit ${status}): ${(stderr.trim() || (e as Error).message).split("\n").slice(-5).join(" | ")}`);
    }
    const policy: PolicyResults | undefined = policyResults(events);
    const review = summarise(stack, digest, policy);

    const markdown = parsed.values.get("markdown")?.[0];
    if (markdown) fs.writeFileSync(markdown, renderMarkdown(review));
    process.stdout.write(parsed.flags.has("json") ? JSON.stringify(review, null, 2) + "\n" : renderText(review));
    if (status !== 0 && stderr.trim()) process.stderr.write(stderr);
    const blocked = (policy?.violations ?? []).some((v) => v.level === "mandatory");
    return status !== 0 || blocked || review.errors.length > 0 ? 1 : 0;
  },
};

function readOrFail(file: string, option: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`review: ${option} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
