import * as crypto from "crypto";
import * as fs from "fs";
import { TYPES } from "../../contract";

/**
 * Strips a recorded `pulumi preview --json` to what the review reads, so fixtures stay small and
 * hold no machine paths worth keeping: images keep their build inputs (an inline Dockerfile, as states
 * before Dockerfiles were staged hold, as a hash: equal text, equal hash) and digest, containers the settings a reviewer sees, pulls their
 * name; other resources keep only their step. Usage:
 *   npx ts-node --transpile-only test/support/preview-fixture.ts IN.json OUT.json
 */
export function stripPreview(doc: any): any {
  const pick = (o: Record<string, any> | undefined, keys: string[]) => (o ? Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]])) : undefined);
  const state = (s: any) => {
    if (!s) return undefined;
    let inputs: Record<string, any> | undefined;
    let outputs: Record<string, any> | undefined;
    if (s.type === TYPES.builtImage) {
      inputs = pick(s.inputs, ["buildArgs", "context", "dockerfile", "labels", "tags"]);
      if (typeof inputs?.dockerfile?.inline === "string") inputs.dockerfile = { inline: `sha256:${crypto.createHash("sha256").update(inputs.dockerfile.inline).digest("hex").slice(0, 16)}` };
      outputs = pick(s.outputs, ["digest"]);
    } else if (s.type === TYPES.container) {
      inputs = pick(s.inputs, ["name", "image", "user", "envs", "ports", "labels", "memory", "memorySwap", "cpuShares", "deviceRequests", "readOnly"]);
    } else if (s.type === TYPES.remoteImage) {
      inputs = pick(s.inputs, ["name"]);
    }
    return { urn: s.urn, type: s.type, parent: s.parent, inputs, outputs };
  };
  const relevant = new Set<string>([TYPES.builtImage, TYPES.container, TYPES.remoteImage]);
  const steps = (doc.steps ?? [])
    .filter((st: any) => st.op !== "same" || relevant.has((st.newState ?? st.oldState)?.type))
    .map((st: any) => ({
      op: st.op,
      urn: st.urn,
      oldState: state(st.oldState),
      newState: state(st.newState),
      diffReasons: st.diffReasons,
      replaceReasons: st.replaceReasons,
      detailedDiff: st.detailedDiff,
    }));
  return {
    steps,
    diagnostics: (doc.diagnostics ?? []).filter((d: any) => d.severity === "error"),
    changeSummary: doc.changeSummary,
  };
}

if (require.main === module) {
  const [input, output] = process.argv.slice(2);
  fs.writeFileSync(output, JSON.stringify(stripPreview(JSON.parse(fs.readFileSync(input, "utf8"))), null, 1) + "\n");
}
