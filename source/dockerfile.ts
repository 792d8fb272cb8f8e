/**
 * The context paths a Dockerfile reads: sources of COPY/ADD (not `--from` another stage) and of
 * `RUN --mount=type=bind`, with `${ARG}` references expanded from `args`. Used to stage exactly the
 * files a family image needs, so editing one family's lock rebuilds that family only.
 */
export function contextPaths(dockerfile: string, args: Readonly<Record<string, string>>): string[] {
  const expand = (s: string) => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, name: string) => args[name] ?? defaults[name] ?? m);
  const defaults: Record<string, string> = {};
  const out = new Set<string>();
  const lines = dockerfile.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  for (const line of lines) {
    const words = line.trim().split(/\s+/);
    const op = words[0]?.toUpperCase();
    if (op === "ARG") {
      const [name, value] = words[1]?.split("=") ?? [];
      if (name && value !== undefined) defaults[name] = value.replace(/^"|"$/g, "");
    } else if (op === "COPY" || op === "ADD") {
      if (words.some((w) => w.startsWith("--from="))) continue;
      const operands = words.slice(1).filter((w) => !w.startsWith("--"));
      operands.slice(0, -1).forEach((src) => out.add(normalise(expand(src))));
    } else if (op === "RUN") {
      for (const w of words.filter((w) => w.startsWith("--mount="))) {
        const opts = Object.fromEntries(w.slice(8).split(",").map((kv) => kv.split("=") as [string, string]));
        if (opts.type === "bind" && !opts.from && (opts.source ?? opts.src)) out.add(normalise(expand(opts.source ?? opts.src)));
      }
    }
  }
  return [...out];
}

function normalise(p: string): string {
  return p.replace(/^\.\/+/, "").replace(/^\/+/, "").replace(/\/+$/, "") || ".";
}
