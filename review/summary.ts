import { BUILD_ARGS, isFleetComponent, LABELS, PORTS_ROLE, TYPES } from "../contract";
import { PolicyResults, PreviewDigest, PreviewState, PreviewStep, UNKNOWN } from "./preview";

/** What happens to one service's image. */
export interface ImageChange {
  /** `rebuild`: built again; `new`: built for the first time; `pinned`: a forced image changes; `unchanged`; `removed`. */
  readonly status: "rebuild" | "new" | "pinned" | "unchanged" | "removed";
  /** The digest it has now, `sha256:...`, when there is one. */
  readonly from?: string;
  /** The digest it will have; absent while the build has not run (preview builds nothing). */
  readonly to?: string;
  /** Which inputs changed, in plain words: source, family digest, lock, Dockerfile, inputs digest old -> new... */
  readonly inputs: readonly string[];
}

/** What happens to one service's container. */
export interface ContainerChange {
  /** The engine's step: replace (a restart), update, create or delete. */
  readonly op: string;
  /** The container's name. */
  readonly name: string;
  /** Why, in plain words: `OMP_NUM_THREADS 16 -> 12`, `image sha256:1f2e… -> (after build)`. */
  readonly reasons: readonly string[];
}

/** One service in the review. */
export interface ServiceReview {
  readonly service: string;
  readonly image: ImageChange;
  /** Absent when the container stays as it is. */
  readonly container?: ContainerChange;
}

/** A family image that is rebuilt, and the services it drags along. */
export interface FamilyReview {
  readonly family: string;
  readonly from?: string;
  readonly to?: string;
  readonly inputs: readonly string[];
  /** Services built FROM it, or FROM a family built FROM it, in this stack. */
  readonly drags: readonly string[];
}

/** A review of one stack's preview. */
export interface Review {
  readonly stack: string;
  readonly services: readonly ServiceReview[];
  readonly families: readonly FamilyReview[];
  /** Changes to resources that belong to no service (network, provider...): `op type name`. */
  readonly other: readonly string[];
  readonly totals: {
    readonly imagesRebuilt: number;
    readonly familiesRebuilt: number;
    readonly containersRestarted: number;
    readonly containersChanged: number;
    readonly servicesUnchanged: number;
    /** The engine's own count of steps per op. */
    readonly steps: Readonly<Record<string, number>>;
  };
  /** Present when the policy pack ran. */
  readonly policy?: PolicyResults;
  /** Errors the preview printed (a failed preview still shows what it saw). */
  readonly errors: readonly string[];
}

const CHANGED = new Set(["update", "replace", "create-replacement", "create", "delete", "delete-replaced", "import", "replace-replaced"]);

function typeOfStep(s: PreviewStep): string {
  return s.newState?.type ?? s.oldState?.type ?? typeFromUrn(s.urn);
}

/** The resource type named in a URN: `urn:pulumi:stack::project::parent$type::name` -> `type`. */
export function typeFromUrn(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.slice(qualified.lastIndexOf("$") + 1);
}

/** The resource name at the end of a URN. */
function nameFromUrn(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

const isUnknown = (v: unknown): boolean => v === UNKNOWN;
const shortDigest = (d: string | undefined): string => (d === undefined ? "(after build)" : d.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1"));

/** The `sha256:` digest at the end of a `repo@sha256:` reference, if it is known. */
function digestOf(ref: unknown): string | undefined {
  if (typeof ref !== "string" || ref.includes(UNKNOWN)) return undefined;
  const at = ref.lastIndexOf("@");
  return at >= 0 ? ref.slice(at + 1) : /^sha256:/.test(ref) ? ref : undefined;
}

/** The last path segment of an image reference's repository: `host/fleet/family-web@sha256:..` -> `family-web`. */
function repoName(ref: unknown): string | undefined {
  if (typeof ref !== "string" || ref.startsWith(UNKNOWN)) return undefined;
  const repo = ref.split("@")[0].replace(/:[^/:]*$/, "");
  return repo.slice(repo.lastIndexOf("/") + 1);
}

function labelsOf(state: PreviewState | undefined): Record<string, string> {
  const raw = state?.inputs?.labels;
  if (Array.isArray(raw)) return Object.fromEntries(raw.map((l: { label: string; value: string }) => [l.label, l.value]));
  return raw ?? {};
}

/**
 * A container's env by key, and how many of its entries are secrets (fleet:secrets): a preview
 * shows those, or the whole list once a provider has marked it secret, without their text.
 */
function envOf(state: PreviewState | undefined): { env: Record<string, string>; secrets: number } {
  const envs: unknown = state?.inputs?.envs;
  if (!Array.isArray(envs)) return { env: {}, secrets: envs === undefined ? 0 : -1 };
  const plain = envs.filter((e): e is string => typeof e === "string" && e !== "[secret]");
  const env = Object.fromEntries(plain.map((e) => (e.includes("=") ? [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] : [e, ""])));
  return { env, secrets: envs.length - plain.length };
}

const show = (v: unknown): string => (v === undefined ? "(none)" : isUnknown(v) ? "(after build)" : typeof v === "string" ? (v === "" ? '""' : v) : JSON.stringify(v));

/** The first 12 hex of an inputs digest, as the image's tag shows it; "(none)" for an image labelled before images were named by content. */
const shortInputs = (v: unknown): string => (typeof v === "string" && /^[0-9a-f]{64}$/.test(v) ? v.slice(0, 12) : show(v));

/** Which build inputs of an image differ between two states, in words a reviewer knows. */
export function imageInputs(kind: "service" | "family", oldIn: Record<string, any> = {}, newIn: Record<string, any> = {}): string[] {
  const out: string[] = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b) || isUnknown(b);
  if (differs(oldIn.context, newIn.context)) out.push(kind === "service" ? "source" : "lock/context files");
  if (differs(oldIn.dockerfile, newIn.dockerfile)) out.push("Dockerfile");
  const oldArgs: Record<string, unknown> = oldIn.buildArgs ?? {};
  const newArgs: Record<string, unknown> = newIn.buildArgs ?? {};
  for (const key of [...new Set([...Object.keys(oldArgs), ...Object.keys(newArgs)])].sort()) {
    if (!differs(oldArgs[key], newArgs[key])) continue;
    if (key === BUILD_ARGS.family) out.push(`${repoName(oldArgs[key]) ?? repoName(newArgs[key]) ?? "family"} digest`);
    else if (key === BUILD_ARGS.base) out.push(`${repoName(oldArgs[key]) ?? "base"} digest`);
    else if (key === BUILD_ARGS.lock) out.push(`lock ${show(oldArgs[key])} -> ${show(newArgs[key])}`);
    // They follow the inputs digest (FLEET_REVISION: the git commit, before images were named by content): named once below.
    else if (key === BUILD_ARGS.inputs || key === BUILD_ARGS.revision) continue;
    else out.push(`build arg ${key} ${show(oldArgs[key])} -> ${show(newArgs[key])}`);
  }
  const oldLabels: Record<string, unknown> = oldIn.labels ?? {};
  const newLabels: Record<string, unknown> = newIn.labels ?? {};
  if (differs(oldLabels[LABELS.inputs], newLabels[LABELS.inputs])) out.push(`inputs ${shortInputs(oldLabels[LABELS.inputs])} -> ${shortInputs(newLabels[LABELS.inputs])}`);
  for (const key of [...new Set([...Object.keys(oldLabels), ...Object.keys(newLabels)])].sort()) {
    if (key !== LABELS.inputs && differs(oldLabels[key], newLabels[key])) out.push(`label ${key}`);
  }
  // The tag is `src-` and the inputs digest: a tag changed alone means the naming changed.
  if (!differs(oldLabels[LABELS.inputs], newLabels[LABELS.inputs]) && differs(oldIn.tags, newIn.tags)) out.push("tag");
  const known = new Set(["context", "dockerfile", "buildArgs", "labels", "tags"]);
  for (const key of Object.keys({ ...oldIn, ...newIn }).sort()) {
    if (!known.has(key) && !key.startsWith("__") && differs(oldIn[key], newIn[key])) out.push(key);
  }
  return out;
}

function portsOf(state: PreviewState | undefined): string[] {
  const ports: unknown = state?.inputs?.ports;
  if (!Array.isArray(ports)) return [];
  return ports.map((p: { ip?: string; external?: number; internal?: number }) => `${p.ip ?? "0.0.0.0"}:${p.external ?? "?"}->${p.internal}`);
}

/** The row of the stack's ports (components/stackPorts.ts), which belong to no one service. */
export const STACK_PORTS = "(the stack's ports)";

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/**
 * How a list of settings changed: `before -> after` for short lists, what left and came (`-x +y`)
 * for long ones (the stack's ports publish every service's two ports); a script (an entry of many
 * lines) is only said to have changed.
 */
function listChange(before: readonly string[], after: readonly string[]): string | undefined {
  if (JSON.stringify(before) === JSON.stringify(after)) return undefined;
  const script = (x: string) => x.includes("\n");
  if (before.length <= 2 && after.length <= 2 && ![...before, ...after].some(script)) return `${before.join(" ") || "none"} -> ${after.join(" ") || "none"}`;
  const gone = before.filter((x) => !after.includes(x));
  const came = after.filter((x) => !before.includes(x));
  const scriptChanged = [...gone, ...came].some(script);
  return [...(scriptChanged ? ["(its script changed)"] : []), ...gone.filter((x) => !script(x)).map((x) => `-${x}`), ...came.filter((x) => !script(x)).map((x) => `+${x}`)].join(" ") || "(reordered)";
}

function gpuOf(state: PreviewState | undefined): string {
  const reqs: unknown = state?.inputs?.deviceRequests;
  if (!Array.isArray(reqs) || reqs.length === 0) return state?.inputs?.gpus ? String(state.inputs.gpus) : "none";
  return reqs.map((r: { deviceIds?: string[] }) => (r.deviceIds ?? ["all"]).join(",")).join(" ");
}

/** Why a container changes, in plain words, from its old and new inputs. */
export function containerReasons(oldState: PreviewState | undefined, newState: PreviewState | undefined): string[] {
  if (!oldState || !newState) return [];
  const out: string[] = [];
  const oldL = labelsOf(oldState);
  const newL = labelsOf(newState);
  const oldImage = oldL[LABELS.image];
  const newImage = newL[LABELS.image];
  if (oldImage !== newImage || (newImage ?? "").includes(UNKNOWN)) out.push(`image ${shortDigest(digestOf(oldImage))} -> ${shortDigest(digestOf(newImage))}`);
  else if (JSON.stringify(oldState.inputs?.image) !== JSON.stringify(newState.inputs?.image)) out.push("image (pulled again)");

  const { env: oldEnv, secrets: oldSecrets } = envOf(oldState);
  const { env: newEnv, secrets: newSecrets } = envOf(newState);
  const wholly = oldSecrets < 0 || newSecrets < 0;
  if (wholly && JSON.stringify(oldState.inputs?.envs) !== JSON.stringify(newState.inputs?.envs)) out.push("env (secret: not shown)");
  if (!wholly && oldSecrets !== newSecrets) out.push(`secret env entries ${oldSecrets} -> ${newSecrets}`);
  for (const key of wholly ? [] : [...new Set([...Object.keys(oldEnv), ...Object.keys(newEnv)])].sort()) {
    if (oldEnv[key] === newEnv[key]) continue;
    if (!(key in oldEnv)) out.push(`env ${key} added (${show(newEnv[key])})`);
    else if (!(key in newEnv)) out.push(`env ${key} removed (was ${show(oldEnv[key])})`);
    else out.push(`${key} ${show(oldEnv[key])} -> ${show(newEnv[key])}`);
  }
  const ports = listChange(portsOf(oldState), portsOf(newState));
  if (ports) out.push(`ports ${ports}`);
  const command = listChange(stringsOf(oldState.inputs?.command), stringsOf(newState.inputs?.command));
  if (command) out.push(`command ${command}`);
  const [og, ng] = [gpuOf(oldState), gpuOf(newState)];
  if (og !== ng) out.push(`GPU ${og} -> ${ng}`);
  for (const [key, unit] of [["memory", " MiB"], ["memorySwap", " MiB"], ["cpuShares", ""]] as const) {
    const [a, b] = [oldState.inputs?.[key], newState.inputs?.[key]];
    if (a !== b) out.push(`${key} ${show(a)}${a === undefined ? "" : unit} -> ${show(b)}${b === undefined ? "" : unit}`);
  }
  for (const label of [...new Set([...Object.keys(oldL), ...Object.keys(newL)])].sort()) {
    if (label === LABELS.image || oldL[label] === newL[label]) continue;
    out.push(`label ${label} ${show(oldL[label])} -> ${show(newL[label])}`);
  }
  // The name is made of the other settings (components/serviceContainer.ts): a reason of its own says nothing new.
  const covered = new Set(["labels", "envs", "image", "ports", "command", "deviceRequests", "gpus", "memory", "memorySwap", "cpuShares", "name"]);
  for (const key of Object.keys({ ...oldState.inputs, ...newState.inputs }).sort()) {
    if (covered.has(key) || key.startsWith("__")) continue;
    if (JSON.stringify(oldState.inputs?.[key]) !== JSON.stringify(newState.inputs?.[key])) out.push(`${key} ${show(oldState.inputs?.[key])} -> ${show(newState.inputs?.[key])}`);
  }
  return out;
}

/**
 * Summarises a stack's `pulumi preview --json` for a reviewer: per service, its image (digest old
 * -> new, or rebuilt and why) and its container (replaced, why); the families rebuilt and whom
 * they drag along; totals; and the policy pack's results when it ran.
 */
export function summarise(stack: string, digest: PreviewDigest, policy?: PolicyResults): Review {
  const steps = digest.steps ?? [];
  const roles = stepsByRole(steps);
  const names = [...new Set([...roles.containers.keys(), ...roles.serviceImages.keys()])].sort();
  const services = names
    .map((service): ServiceReview => ({ service, image: imageChange(roles.serviceImages.get(service), roles.pulls.get(service)), container: containerChange(roles.containers.get(service) ?? []) }))
    // The stack's ports are no service: named only when their container changes.
    .filter((s) => s.service !== STACK_PORTS || s.container);
  const families = familyChanges(roles, names);
  return { stack, services, families, other: otherChanges(steps, roles), totals: totalsOf(services, families, digest), policy, errors: previewErrors(digest) };
}

/** A step's state: the new one, or the old one of a delete. */
const stateOf = (s: PreviewStep): PreviewState | undefined => s.newState ?? s.oldState;

/** Whether a step changes its resource. */
const isChange = (s: PreviewStep): boolean => CHANGED.has(s.op);

/** The steps the review reads, by what they are to a service. */
interface StepsByRole {
  /** Family image builds: they carry the LOCK build arg (components/familyImage.ts). */
  readonly families: readonly PreviewStep[];
  /** Service image builds by service: they carry SERVICE_NAME (components/serviceImage.ts). */
  readonly serviceImages: ReadonlyMap<string, PreviewStep>;
  /** Container steps by the service their label names (a replacement has two). */
  readonly containers: ReadonlyMap<string, readonly PreviewStep[]>;
  /** The service of each container's component (the URN of the container's parent). */
  readonly serviceOfParent: ReadonlyMap<string, string>;
  /** Image pulls by service: those in a container's component. */
  readonly pulls: ReadonlyMap<string, PreviewStep>;
}

/** Sorts the preview's image, container and pull steps by the service (or family) they belong to. */
function stepsByRole(steps: readonly PreviewStep[]): StepsByRole {
  const byType = (t: string) => steps.filter((s) => typeOfStep(s) === t);
  const families = byType(TYPES.builtImage).filter((s) => stateOf(s)?.inputs?.buildArgs?.[BUILD_ARGS.lock] !== undefined);
  const serviceImages = new Map<string, PreviewStep>();
  for (const s of byType(TYPES.builtImage)) {
    const name = stateOf(s)?.inputs?.buildArgs?.[BUILD_ARGS.serviceName];
    if (typeof name === "string") serviceImages.set(name, s);
  }
  // Containers name their service in a label; their component (the URN's parent) holds the pull.
  const containers = new Map<string, PreviewStep[]>();
  const serviceOfParent = new Map<string, string>();
  for (const s of byType(TYPES.container)) {
    const labels = labelsOf(stateOf(s));
    const service = labels[LABELS.service] ?? (labels[LABELS.role] === PORTS_ROLE ? STACK_PORTS : nameFromUrn(s.urn));
    containers.set(service, [...(containers.get(service) ?? []), s]);
    const parent = stateOf(s)?.parent;
    if (parent) serviceOfParent.set(parent, service);
  }
  const pulls = new Map<string, PreviewStep>();
  for (const s of byType(TYPES.remoteImage)) {
    const service = serviceOfParent.get(stateOf(s)?.parent ?? "");
    if (service) pulls.set(service, s);
  }
  return { families, serviceImages, containers, serviceOfParent, pulls };
}

/** A family image's name: its title label, else its repository, else its resource name. */
function familyNameOf(s: PreviewStep): string {
  return stateOf(s)?.inputs?.labels?.[LABELS.title] ?? repoName(stateOf(s)?.inputs?.tags?.[0]) ?? nameFromUrn(s.urn);
}

/** What happens to a service's image: its build step when this stack builds it, else the pull of a forced (pinned) one. */
function imageChange(imageStep: PreviewStep | undefined, pull: PreviewStep | undefined): ImageChange {
  const built = imageStep && imageStep.op !== "delete" && imageStep.op !== "delete-replaced";
  if (imageStep && built) {
    const from = digestOf(imageStep.oldState?.outputs?.digest);
    const to = digestOf(imageStep.newState?.outputs?.digest);
    if (!isChange(imageStep)) return { status: "unchanged", from, to: from, inputs: [] };
    if (imageStep.op === "create") return { status: "new", to, inputs: [] };
    return { status: "rebuild", from, to: to !== from ? to : undefined, inputs: imageInputs("service", imageStep.oldState?.inputs, imageStep.newState?.inputs) };
  }
  if (pull?.newState) {
    // A forced (pinned) image: only the pull says which digest the container gets. The build
    // it replaces (if any) goes away from the stack.
    const from = digestOf(pull.oldState?.inputs?.name) ?? digestOf(imageStep?.oldState?.outputs?.digest);
    const to = digestOf(pull.newState.inputs?.name);
    return from !== to || imageStep ? { status: "pinned", from, to, inputs: ["pinned image"] } : { status: "unchanged", from, to: from, inputs: [] };
  }
  return { status: imageStep ? "removed" : "unchanged", from: digestOf(imageStep?.oldState?.outputs?.digest), inputs: [] };
}

/** What happens to a service's container, from its steps; undefined when it stays as it is. */
function containerChange(steps: readonly PreviewStep[]): ContainerChange | undefined {
  const cSteps = steps.filter(isChange);
  if (!cSteps.length) return undefined;
  const ops = cSteps.map((s) => s.op);
  const op = ops.includes("replace") || (ops.includes("create-replacement") && ops.includes("delete-replaced")) || ops.includes("delete-replaced") ? "replace" : ops[0];
  const main = cSteps.find((s) => s.oldState && s.newState) ?? cSteps[0];
  // The container running now, when there is one: a replacement's name comes with its settings.
  const name = String(main.oldState?.inputs?.name ?? stateOf(main)?.inputs?.name ?? nameFromUrn(main.urn));
  return { op, name, reasons: op === "create" ? ["new container"] : op === "delete" ? ["service removed from the stack"] : containerReasons(main.oldState, main.newState) };
}

/** Whether a family descends from another, as the image inputs tell the family tree. */
type DescendsFrom = (family: string | undefined, ancestor: string) => boolean;

/** The family tree as the image inputs tell it: a family's parent from BASE, a service's family from FAMILY. */
function familyTree(roles: StepsByRole): { familyOf: ReadonlyMap<string, string | undefined>; descendsFrom: DescendsFrom } {
  const parentOf = new Map<string, string | undefined>();
  for (const s of roles.families) parentOf.set(familyNameOf(s), repoName(s.oldState?.inputs?.buildArgs?.[BUILD_ARGS.base] ?? s.newState?.inputs?.buildArgs?.[BUILD_ARGS.base]));
  const familyOf = new Map<string, string | undefined>();
  for (const [service, s] of roles.serviceImages) familyOf.set(service, repoName(s.oldState?.inputs?.buildArgs?.[BUILD_ARGS.family]) ?? repoName(s.newState?.inputs?.buildArgs?.[BUILD_ARGS.family]));
  const descendsFrom: DescendsFrom = (family, ancestor) => {
    for (let f = family, hops = 0; f !== undefined && hops < 32; f = parentOf.get(f), hops++) if (f === ancestor) return true;
    return false;
  };
  return { familyOf, descendsFrom };
}

/** The family images that change, and the services among `names` each drags along. */
function familyChanges(roles: StepsByRole, names: readonly string[]): FamilyReview[] {
  const { familyOf, descendsFrom } = familyTree(roles);
  return roles.families.filter(isChange).map((s) => {
    const family = familyNameOf(s);
    const from = digestOf(s.oldState?.outputs?.digest);
    const to = digestOf(s.newState?.outputs?.digest);
    return {
      family,
      from,
      to: to !== from ? to : undefined,
      inputs: s.op === "create" ? ["new family"] : imageInputs("family", s.oldState?.inputs, s.newState?.inputs),
      drags: names.filter((n) => descendsFrom(familyOf.get(n), family)),
    };
  });
}

/** Changes to resources that belong to no service and are not the fleet's components: `op type name`. */
function otherChanges(steps: readonly PreviewStep[], roles: StepsByRole): string[] {
  const known = new Set<PreviewStep>([...roles.families, ...roles.serviceImages.values(), ...[...roles.containers.values()].flat(), ...roles.pulls.values()]);
  return steps
    .filter((s) => isChange(s) && !known.has(s) && typeOfStep(s) !== "pulumi:pulumi:Stack" && !roles.serviceOfParent.has(stateOf(s)?.parent ?? "") && !isFleetComponent(typeOfStep(s)))
    .map((s) => `${s.op} ${typeOfStep(s)} ${nameFromUrn(s.urn)}`);
}

/** The review's counts, beside the engine's own count of steps per op. */
function totalsOf(services: readonly ServiceReview[], families: readonly FamilyReview[], digest: PreviewDigest): Review["totals"] {
  return {
    imagesRebuilt: services.filter((s) => s.image.status === "rebuild" || s.image.status === "new").length + families.length,
    familiesRebuilt: families.length,
    containersRestarted: services.filter((s) => s.container?.op === "replace").length,
    containersChanged: services.filter((s) => s.container).length,
    servicesUnchanged: services.filter((s) => s.image.status === "unchanged" && !s.container).length,
    steps: { ...(digest.changeSummary ?? {}) },
  };
}

/** The errors the preview printed (a failed preview still shows what it saw). */
function previewErrors(digest: PreviewDigest): string[] {
  return (digest.diagnostics ?? []).filter((d) => d.severity === "error").map((d) => String(d.message ?? "").trim()).filter(Boolean);
}
