import { DockerfileParser, Instruction } from "dockerfile-ast";
import { BUILD_ARGS } from "../../contract";

/**
 * Static rules for the fleet's Dockerfiles (CIS Docker Benchmark 1.6 section 4 and the plan's
 * image rules), checked on the parsed file so that a test can say which line breaks which rule.
 */

/** Which Dockerfile is checked: the root family, a family built on another, or the service one. */
export type DockerfileKind = "root-family" | "family" | "service";

/** One broken rule, at a 1-based line. */
export interface Violation {
  readonly rule: string;
  readonly line: number;
  readonly message: string;
}

/** The user every fleet process runs as. */
export const RUNTIME_USER = "10001:10001";

/** The build arg that carries the parent image (`repo@sha256:`) for each kind. */
export const PARENT_ARG: Readonly<Record<DockerfileKind, string>> = {
  "root-family": BUILD_ARGS.base,
  family: BUILD_ARGS.base,
  service: BUILD_ARGS.family,
};

interface Stage {
  readonly name: string | null;
  readonly image: string;
  readonly line: number;
  readonly instructions: Instruction[];
}

// ENV/ARG names whose value would be a credential. Whole `_`-separated words, so that
// TOKENIZERS_PARALLELISM or KEYBOARD are not taken for secrets.
const SECRET_WORDS = new Set(["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "KEY", "CREDENTIAL", "CREDENTIALS", "PRIVATE"]);
// Values that are credentials whatever their name.
const SECRET_VALUES = [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, /\bAKIA[0-9A-Z]{16}\b/, /\bgh[pousr]_[A-Za-z0-9]{30,}\b/, /\bxox[abpr]-[A-Za-z0-9-]{10,}/];

const line = (i: Instruction) => i.getRange().start.line + 1;
const text = (i: Instruction) => (i.getArgumentsContent() ?? "").replace(/\s+/g, " ").trim();
const flags = (i: Instruction): string[] => {
  const withFlags = i as unknown as { getFlags?: () => { getName(): string; getValue(): string | null }[] };
  return withFlags.getFlags ? withFlags.getFlags().map((f) => `${f.getName()}=${f.getValue() ?? ""}`) : [];
};
const isPipInstall = (run: string) => /\bpip3?\s+install\b|\b-m\s+pip\s+install\b/.test(run);
const isApt = (run: string) => /\bapt(-get)?\s+(update|install|upgrade|dist-upgrade)\b/.test(run);

function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: { name: string | null; image: string; line: number; instructions: Instruction[] }[] = [];
  for (const i of instructions) {
    if (i.getKeyword() === "FROM") {
      const args = (i.getArgumentsContent() ?? "").trim().split(/\s+/);
      const as = args.findIndex((a) => a.toUpperCase() === "AS");
      stages.push({ name: as >= 0 ? args[as + 1] ?? null : null, image: args[0] ?? "", line: line(i), instructions: [] });
    } else if (stages.length) stages[stages.length - 1].instructions.push(i);
  }
  return stages;
}

/** The stages the final image is made of: the last stage and the stages it is FROM, root first. */
function finalLineage(stages: Stage[]): Stage[] {
  const out: Stage[] = [];
  let current: Stage | undefined = stages[stages.length - 1];
  while (current) {
    out.unshift(current);
    const parent: string = current.image;
    current = stages.slice(0, stages.indexOf(current)).reverse().find((s) => s.name === parent);
  }
  return out;
}

/**
 * Every rule the Dockerfile `source` breaks, as a {@link DockerfileKind}. An empty list means
 * it passes. `name` is the family's name (used for its default lock path); ignored for services.
 */
export function checkDockerfile(source: string, kind: DockerfileKind, name = ""): Violation[] {
  const out: Violation[] = [];
  const fail = (rule: string, at: number, message: string) => out.push({ rule, line: at, message });
  const df = DockerfileParser.parse(source);
  const all = df.getInstructions();
  const stages = stagesOf(all);
  const parentArg = PARENT_ARG[kind];

  // No parser directive: `# syntax=` makes BuildKit pull a frontend image, impossible offline.
  source.split(/\r?\n/).forEach((l, n) => {
    if (/^\s*#\s*syntax\s*=/i.test(l)) fail("no-syntax-directive", n + 1, "a '# syntax=' line makes BuildKit pull a frontend image; use the built-in frontend");
  });

  if (stages.length === 0) {
    fail("from-by-arg", 1, "no FROM instruction");
    return out;
  }

  // The parent arrives by digest through a build arg declared before the first FROM.
  if (!df.getInitialARGs().some((a) => text(a).split("=")[0] === parentArg)) {
    fail("from-by-arg", stages[0].line, `ARG ${parentArg} must be declared before the first FROM (the parent image as repo@sha256:...)`);
  }
  const stageNames = new Set<string>();
  for (const s of stages) {
    if (s.image !== `\${${parentArg}}` && !stageNames.has(s.image)) {
      fail("from-by-arg", s.line, `FROM ${s.image}: every stage must start FROM \${${parentArg}} or an earlier stage`);
    }
    if (s.name) stageNames.add(s.name);
  }

  // Multi-stage: a builder that installs, a runtime that copies from it.
  const lineage = finalLineage(stages);
  const runtime = lineage[lineage.length - 1];
  const builder = stages.find((s) => s.name === "builder");
  if (stages.length < 2 || !builder) {
    fail("multi-stage", runtime.line, "expected a stage named 'builder' and a runtime stage after it");
  } else if (!runtime.instructions.some((i) => i.getKeyword() === "COPY" && flags(i).includes("from=builder"))) {
    fail("multi-stage", runtime.line, "the runtime stage must COPY --from=builder what it runs");
  }

  // Runtime identity and process model.
  const users = runtime.instructions.filter((i) => i.getKeyword() === "USER");
  const lastUser = users[users.length - 1];
  if (!lastUser || text(lastUser) !== RUNTIME_USER) {
    fail("runtime-user", lastUser ? line(lastUser) : runtime.line, `the runtime stage must end as USER ${RUNTIME_USER}; got ${lastUser ? text(lastUser) : "no USER"}`);
  }
  const lineageInstructions = lineage.flatMap((s) => s.instructions);
  const entrypoints = lineageInstructions.filter((i) => i.getKeyword() === "ENTRYPOINT");
  const entrypoint = entrypoints[entrypoints.length - 1];
  if (entrypoint) {
    if (!/^\[\s*"(\/usr\/bin\/)?tini"\s*,\s*"--"/.test(text(entrypoint))) {
      fail("tini-entrypoint", line(entrypoint), `ENTRYPOINT must be ["tini", "--"] (exec form, tini as PID 1); got ${text(entrypoint)}`);
    }
  } else if (kind !== "family") {
    fail("tini-entrypoint", runtime.line, 'the image must set ENTRYPOINT ["tini", "--"]');
  }
  const healthchecks = lineageInstructions.filter((i) => i.getKeyword() === "HEALTHCHECK");
  const healthcheck = healthchecks[healthchecks.length - 1];
  if (healthcheck && /^NONE$/i.test(text(healthcheck))) fail("healthcheck", line(healthcheck), "HEALTHCHECK NONE switches off the inherited probe");
  if (kind === "service" && !healthcheck) fail("healthcheck", runtime.line, "the service image must declare a HEALTHCHECK on its /health port");
  if (kind === "service" && healthcheck && !/HEALTH_PORT|healthcheck/i.test(text(healthcheck))) {
    fail("healthcheck", line(healthcheck), "the HEALTHCHECK must probe the port in HEALTH_PORT");
  }
  if (kind !== "family" && !lineageInstructions.some((i) => i.getKeyword() === "STOPSIGNAL")) {
    fail("stopsignal", runtime.line, "the image must set STOPSIGNAL (SIGTERM: tini forwards it to the app)");
  }
  if (runtime.instructions.some((i) => i.getKeyword() === "RUN" && isPipInstall(text(i)))) {
    fail("runtime-copies-only", runtime.line, "the runtime stage must not pip install: install in the builder and COPY --from=builder");
  }

  for (const i of all) {
    const keyword = i.getKeyword();
    const body = text(i);
    if (keyword === "ADD") fail("copy-not-add", line(i), "use COPY, not ADD (CIS 4.9)");
    if (keyword === "RUN") {
      const runFlags = flags(i);
      if (isPipInstall(body)) {
        if (!/--require-hashes\b/.test(body)) fail("pip-require-hashes", line(i), "pip install must use --require-hashes with a hash-locked file (CIS 4.11)");
        if (!/\s-r\s+\S+\.lock\b|--requirement[= ]\S+\.lock\b/.test(body)) fail("pip-require-hashes", line(i), "pip install must read a hash-locked *.lock file with -r");
        if (!runFlags.some((f) => /^mount=.*type=cache.*target=\/root\/\.cache\/pip/.test(f))) {
          fail("pip-cache-mount", line(i), "pip install must run with --mount=type=cache,target=/root/.cache/pip so wheels are cached outside the layers");
        }
      }
      if (/\bapt-get\s+update\b/.test(body) && !/\bapt-get\s+(-\S+\s+)*install\b/.test(body)) {
        fail("apt-update-alone", line(i), "apt-get update must share its RUN with apt-get install (CIS 4.7)");
      }
      if (/\bapt\s+(install|update)\b/.test(body)) fail("apt-get-only", line(i), "use apt-get, not apt (its CLI is not stable for scripts)");
      if (/\bapt-get\s+(-\S+\s+)*install\b/.test(body)) {
        if (!/--no-install-recommends\b/.test(body)) fail("apt-no-recommends", line(i), "apt-get install must use --no-install-recommends (CIS 4.3)");
        if (!/\s-y\b|--yes\b|--assume-yes\b/.test(body)) fail("apt-no-recommends", line(i), "apt-get install must be non-interactive (-y)");
        if (!/rm -rf[^&;]*\/var\/lib\/apt\/lists/.test(body)) fail("apt-lists-removed", line(i), "remove /var/lib/apt/lists/* in the same RUN as apt-get install");
      }
    }
    if (keyword === "COPY") {
      const srcs = body.split(" ").filter((w) => !w.startsWith("--")).slice(0, -1);
      for (const src of srcs) if (/(^|\/)(\.env|id_rsa|.*\.pem|.*\.key)$/.test(src)) fail("no-secrets", line(i), `COPY ${src}: credentials must not enter an image (CIS 4.10)`);
    }
    if (keyword === "ENV" || keyword === "ARG") {
      for (const pair of body.match(/[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|\S*)|^[A-Za-z_][A-Za-z0-9_]*$/g) ?? []) {
        const [key, ...rest] = pair.split("=");
        const value = rest.join("=");
        if (key.toUpperCase().split("_").some((w) => SECRET_WORDS.has(w))) {
          fail("no-secrets", line(i), `${keyword} ${key}: a secret-looking name; pass secrets with RUN --mount=type=secret (CIS 4.10)`);
        } else if (SECRET_VALUES.some((re) => re.test(value))) {
          fail("no-secrets", line(i), `${keyword} ${key}: the value looks like a credential (CIS 4.10)`);
        }
      }
    }
  }

  // Layer order inside each stage: OS packages -> deps -> app code.
  for (const s of stages) {
    let reached = 0;
    let reachedAt = 0;
    for (const i of s.instructions) {
      const body = text(i);
      const rank = i.getKeyword() === "RUN" && isApt(body) ? 1 : i.getKeyword() === "RUN" && isPipInstall(body) ? 2 : i.getKeyword() === "COPY" && !flags(i).some((f) => f.startsWith("from=")) && /^(app\/?|\.)\s/.test(body) ? 3 : 0;
      if (rank === 0) continue;
      if (rank < reached) {
        const names = ["", "OS packages", "deps", "app code"];
        fail("layer-order", line(i), `${names[rank]} after ${names[reached]} (line ${reachedAt}): keep the order OS -> libs -> deps -> app so app edits reuse the dependency layers`);
      } else {
        reached = rank;
        reachedAt = line(i);
      }
    }
  }

  if (kind === "root-family") {
    const runs = lineageInstructions.filter((i) => i.getKeyword() === "RUN").map(text);
    if (!runs.some((r) => /find \/ .*-perm \/6000.*chmod a-s/.test(r))) {
      fail("no-setuid", runtime.line, "the root family must strip setuid/setgid bits: find / -xdev -perm /6000 -type f -exec chmod a-s {} + (CIS 4.8)");
    }
    if (!runs.some((r) => /useradd\b.*--uid 10001\b/.test(r) && /groupadd\b.*--gid 10001\b/.test(r))) {
      fail("runtime-user", runtime.line, "the root family must create appuser as uid 10001, gid 10001");
    }
    const env = lineageInstructions.filter((i) => i.getKeyword() === "ENV").map(text).join(" ");
    if (!/PYTHONDONTWRITEBYTECODE=1/.test(env)) fail("read-only-rootfs", runtime.line, "set PYTHONDONTWRITEBYTECODE=1: the root filesystem is read-only at runtime");
  } else if (all.some((i) => i.getKeyword() === "RUN" && /\buseradd\b|\badduser\b/.test(text(i)))) {
    fail("runtime-user", 1, "only base-cpu-pydeps creates the runtime user; other images inherit it");
  }
  if (kind === "root-family" && name) {
    const lockArg = all.find((i) => i.getKeyword() === "ARG" && text(i).startsWith("LOCK="));
    const expected = `requirements/${name}.lock`;
    if (!lockArg || text(lockArg) !== `LOCK=${expected}`) {
      fail("family-lock", lockArg ? line(lockArg) : 1, `ARG LOCK must default to ${expected}; got ${lockArg ? text(lockArg) : "no ARG LOCK"}`);
    }
  } else if (kind === "family" && !all.some((i) => i.getKeyword() === "ARG" && text(i).split("=")[0] === "LOCK")) {
    // The shared family Dockerfile builds every family below the root: its lock is always given.
    fail("family-lock", 1, "the family Dockerfile must take the family's lock as ARG LOCK");
  }
  if (kind === "service") {
    for (const arg of [BUILD_ARGS.serviceName, BUILD_ARGS.servicePort, BUILD_ARGS.healthPort]) {
      if (!runtime.instructions.some((i) => i.getKeyword() === "ARG" && text(i).split("=")[0] === arg)) {
        fail("service-args", runtime.line, `the runtime stage must take the build arg ${arg}`);
      }
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

/** One violation per line, for assertion messages. */
export function formatViolations(file: string, violations: readonly Violation[]): string {
  return violations.map((v) => `${file}:${v.line}: [${v.rule}] ${v.message}`).join("\n");
}

/** A requirement of a hash-locked file: name, pinned version and its sha256 hashes. */
export interface LockedRequirement {
  readonly name: string;
  readonly version: string | null;
  readonly hashes: readonly string[];
  readonly line: number;
  readonly raw: string;
}

/** The requirements of a pip lock file (backslash continuations joined, comments dropped). */
export function parseLock(source: string): LockedRequirement[] {
  const out: LockedRequirement[] = [];
  const lines = source.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const start = n;
    let logical = lines[n].replace(/\s+#.*$/, "");
    while (/\\\s*$/.test(logical) && n + 1 < lines.length) logical = logical.replace(/\\\s*$/, " ") + lines[++n].replace(/\s+#.*$/, "");
    const body = logical.replace(/^\s*#.*$/, "").trim();
    if (!body || body.startsWith("-")) continue;
    const spec = body.split(/\s+--/)[0].trim();
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(==\s*([^\s;]+))?/.exec(spec);
    out.push({
      name: (m?.[1] ?? spec).toLowerCase().replace(/[._]/g, "-"),
      version: m?.[4] ?? null,
      hashes: [...body.matchAll(/--hash=sha256:([0-9a-f]{64})\b/g)].map((h) => h[1]),
      line: start + 1,
      raw: spec,
    });
  }
  return out;
}

/** Problems of a lock file: every requirement pinned with `==` and carrying a sha256 hash. */
export function checkLock(source: string): string[] {
  const reqs = parseLock(source);
  const out: string[] = [];
  if (reqs.length === 0) out.push("no requirement in the lock");
  for (const r of reqs) {
    if (!r.version) out.push(`line ${r.line}: ${r.raw} is not pinned with ==`);
    if (r.hashes.length === 0) out.push(`line ${r.line}: ${r.raw} has no --hash=sha256: (pip --require-hashes would refuse it)`);
  }
  return out;
}
