import { ImageChange, Review } from "./summary";

const short = (d: string | undefined): string => (d === undefined ? "(after build)" : d.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1"));

/** One image change in words: `rebuild (source; inputs 1a2b… -> 3c4d…)`, `sha256:a… -> sha256:b…`, `unchanged`. */
export function imageWords(i: ImageChange): string {
  switch (i.status) {
    case "unchanged":
      return "unchanged";
    case "new":
      return `new image ${short(i.to)}`;
    case "removed":
      return "removed";
    case "pinned":
      return `pinned ${short(i.from)} -> ${short(i.to)}`;
    case "rebuild":
      return i.to ? `${short(i.from)} -> ${short(i.to)} (${i.inputs.join("; ") || "rebuilt"})` : `rebuild (${i.inputs.join("; ") || "provider diff"})`;
  }
}

function headline(r: Review): string {
  const t = r.totals;
  const parts = [
    `${t.containersRestarted} container${t.containersRestarted === 1 ? "" : "s"} restart`,
    `${t.containersChanged - t.containersRestarted} other container change${t.containersChanged - t.containersRestarted === 1 ? "" : "s"}`,
    `${t.imagesRebuilt} image${t.imagesRebuilt === 1 ? "" : "s"} rebuilt (${t.familiesRebuilt} famil${t.familiesRebuilt === 1 ? "y" : "ies"})`,
    `${t.servicesUnchanged} service${t.servicesUnchanged === 1 ? "" : "s"} unchanged`,
  ];
  if (r.policy) parts.push(`policy: ${r.policy.violations.length ? `${r.policy.violations.length} violation(s)` : `${r.policy.passed.length} passed`}`);
  return parts.join(", ");
}

/** The review as plain text for a terminal. */
export function renderText(r: Review): string {
  const lines = [`fleet review ${r.stack}: ${headline(r)}`, ""];
  const width = Math.max(8, ...r.services.map((s) => s.service.length));
  for (const s of r.services) {
    lines.push(`  ${s.service.padEnd(width)}  image: ${imageWords(s.image)}`);
    if (s.container) lines.push(`  ${"".padEnd(width)}  container ${s.container.name}: ${s.container.op}${s.container.reasons.length ? ` because ${s.container.reasons.join("; ")}` : ""}`);
  }
  if (r.families.length) {
    lines.push("", "families rebuilt:");
    for (const f of r.families) lines.push(`  ${f.family} (${f.inputs.join("; ")}) drags ${f.drags.join(", ") || "no service of this stack"}`);
  }
  if (r.other.length) lines.push("", "other changes:", ...r.other.map((o) => `  ${o}`));
  const steps = Object.entries(r.totals.steps).map(([op, n]) => `${op} ${n}`).join(", ");
  if (steps) lines.push("", `engine steps: ${steps}`);
  if (r.policy) {
    lines.push("", `policy pack: ${r.policy.passed.length} passed, ${r.policy.failed.length} failed`);
    for (const v of r.policy.violations) lines.push(`  [${v.level}] ${v.policy}: ${v.message}`);
  }
  if (r.errors.length) lines.push("", "preview errors:", ...r.errors.map((e) => `  ${e.split("\n").join("\n  ")}`));
  return lines.join("\n") + "\n";
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The marker that identifies a stack's review comment on a pull request (updated, not duplicated). */
export function commentMarker(stack: string): string {
  return `<!-- fleet-review:${stack} -->`;
}

/** The review as a compact pull-request comment (GitHub markdown). */
export function renderMarkdown(r: Review): string {
  const lines = [commentMarker(r.stack), `### fleet review: \`${r.stack}\``, "", `**${headline(r)}**`, ""];
  const moving = r.services.filter((s) => s.container || s.image.status !== "unchanged");
  if (moving.length) {
    lines.push("| service | image | container |", "|---|---|---|");
    for (const s of moving) {
      const c = s.container ? `**${s.container.op}**${s.container.reasons.length ? `: ${s.container.reasons.map((x) => `\`${x}\``).join(", ")}` : ""}` : "kept";
      lines.push(`| ${s.service} | ${cell(imageWords(s.image))} | ${cell(c)} |`);
    }
    lines.push("");
  } else {
    lines.push("No service changes.", "");
  }
  if (r.families.length) {
    lines.push("**Families rebuilt**", "");
    for (const f of r.families) lines.push(`- \`${f.family}\` (${f.inputs.join("; ")}): drags ${f.drags.join(", ") || "no service of this stack"}`);
    lines.push("");
  }
  if (r.other.length) lines.push("**Other changes**", "", ...r.other.map((o) => `- ${o}`), "");
  if (r.policy) {
    if (r.policy.violations.length) {
      lines.push(`**Policy: ${r.policy.failed.length} polic${r.policy.failed.length === 1 ? "y" : "ies"} violated**`, "");
      for (const v of r.policy.violations) lines.push(`- ${v.level === "mandatory" ? "⛔" : "⚠️"} \`${v.policy}\`: ${cell(v.message)}`);
    } else {
      lines.push(`**Policy:** all ${r.policy.passed.length} policies passed.`);
    }
    lines.push("");
  }
  if (r.errors.length) lines.push("**Preview failed**", "", "```", ...r.errors, "```", "");
  const unchanged = r.services.filter((s) => !s.container && s.image.status === "unchanged").map((s) => s.service);
  if (unchanged.length) lines.push(`<details><summary>${unchanged.length} unchanged</summary>\n\n${unchanged.join(", ")}\n</details>`, "");
  return lines.join("\n");
}
