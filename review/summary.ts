import { PolicyResults, PreviewDigest, PreviewState, PreviewStep, UNKNOWN } from "./preview";

/** Pulumi types the review reads. */
const IMAGE = "docker-build:index:Image";
const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

/** What happens to one service's image. */
export interface ImageChange {
  /** `rebuild`: built again; `new`: built for the first time; `pinned`: a forced image changes; `unchanged`; `removed`. */
  readonly status: "rebuild" | "new" | "pinned" | "unchanged" | "removed";
  /** The digest it has now, `sha256:...`, when there is one. */
  readonly from?: string;
  /** The digest it will have; absent while the build has not run (preview builds nothing). */
  readonly to?: string;
  /** Which inputs changed, in plain words: source, family digest, lock, Dockerfile, revision... */
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

function envOf(state: PreviewState | undefined): Record<string, string> {
  const envs: unknown = state?.inputs?.envs;
  if (!Array.isArray(envs)) return {};
  return Object.fromEntries(envs.map((e: string) => (e.includes("=") ? [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] : [e, ""])));
}

const show = (v: unknown): string => (v === undefined ? "(none)" : isUnknown(v) ? "(after build)" : typeof v === "string" ? (v === "" ? '""' : v) : JSON.stringify(v));

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
    if (key === "FAMILY") out.push(`${repoName(oldArgs[key]) ?? repoName(newArgs[key]) ?? "family"} digest`);
    else if (key === "BASE") out.push(`${repoName(oldArgs[key]) ?? "base"} digest`);
    else if (key === "LOCK") out.push(`lock ${show(oldArgs[key])} -> ${show(newArgs[key])}`);
    else if (key === "FLEET_REVISION") continue; // the revision follows the inputs: named once below
    else out.push(`build arg ${key} ${show(oldArgs[key])} -> ${show(newArgs[key])}`);
  }
  if (differs(oldIn.labels, newIn.labels) || differs(oldIn.tags, newIn.tags) || differs(oldArgs.FLEET_REVISION, newArgs.FLEET_REVISION)) out.push("revision");
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
  const oldImage = oldL["dev.fleet.image"];
  const newImage = newL["dev.fleet.image"];
  if (oldImage !== newImage || (newImage ?? "").includes(UNKNOWN)) out.push(`image ${shortDigest(digestOf(oldImage))} -> ${shortDigest(digestOf(newImage))}`);
  else if (JSON.stringify(oldState.inputs?.image) !== JSON.stringify(newState.inputs?.image)) out.push("image (pulled again)");

  const oldEnv = envOf(oldState);
  const newEnv = envOf(newState);
  for (const key of [...new Set([...Object.keys(oldEnv), ...Object.keys(newEnv)])].sort()) {
    if (oldEnv[key] === newEnv[key]) continue;
    if (!(key in oldEnv)) out.push(`env ${key} added (${show(newEnv[key])})`);
    else if (!(key in newEnv)) out.push(`env ${key} removed (was ${show(oldEnv[key])})`);
    else out.push(`${key} ${show(oldEnv[key])} -> ${show(newEnv[key])}`);
  }
  const [op, np] = [portsOf(oldState), portsOf(newState)];
  if (JSON.stringify(op) !== JSON.stringify(np)) out.push(`ports ${op.join(" ") || "none"} -> ${np.join(" ") || "none"}`);
  const [og, ng] = [gpuOf(oldState), gpuOf(newState)];
  if (og !== ng) out.push(`GPU ${og} -> ${ng}`);
  for (const [key, unit] of [["memory", " MiB"], ["memorySwap", " MiB"], ["cpuShares", ""]] as const) {
    const [a, b] = [oldState.inputs?.[key], newState.inputs?.[key]];
    if (a !== b) out.push(`${key} ${show(a)}${a === undefined ? "" : unit} -> ${show(b)}${b === undefined ? "" : unit}`);
  }
  for (const label of [...new Set([...Object.keys(oldL), ...Object.keys(newL)])].sort()) {
    if (label === "dev.fleet.image" || oldL[label] === newL[label]) continue;
    out.push(`label ${label} ${show(oldL[label])} -> ${show(newL[label])}`);
  }
  const covered = new Set(["labels", "envs", "image", "ports", "deviceRequests", "gpus", "memory", "memorySwap", "cpuShares"]);
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
  const byType = (t: string) => steps.filter((s) => typeOfStep(s) === t);
  const state = (s: PreviewStep) => s.newState ?? s.oldState;
  const changed = (s: PreviewStep) => CHANGED.has(s.op);

  // Family images carry LOCK, service images SERVICE_NAME (components/familyImage.ts, serviceImage.ts).
  const familyName = (s: PreviewStep) => state(s)?.inputs?.labels?.["org.opencontainers.image.title"] ?? repoName(state(s)?.inputs?.tags?.[0]) ?? nameFromUrn(s.urn);
  const familySteps = byType(IMAGE).filter((s) => state(s)?.inputs?.buildArgs?.LOCK !== undefined);
  const serviceImageSteps = new Map<string, PreviewStep>();
  for (const s of byType(IMAGE)) {
    const name = state(s)?.inputs?.buildArgs?.SERVICE_NAME;
    if (typeof name === "string") serviceImageSteps.set(name, s);
  }

  // Containers name their service in a label; their component (the URN's parent) holds the pull.
  const containers = new Map<string, PreviewStep[]>();
  const serviceOfParent = new Map<string, string>();
  for (const s of byType(CONTAINER)) {
    const service = labelsOf(state(s))["dev.fleet.service"] ?? nameFromUrn(s.urn);
    containers.set(service, [...(containers.get(service) ?? []), s]);
    const parent = state(s)?.parent;
    if (parent) serviceOfParent.set(parent, service);
  }
  const pulls = new Map<string, PreviewStep>();
  for (const s of byType(REMOTE_IMAGE)) {
    const service = serviceOfParent.get(state(s)?.parent ?? "");
    if (service) pulls.set(service, s);
  }

  // The family tree as the image inputs tell it: a family's parent from BASE, a service's family from FAMILY.
  const parentOf = new Map<string, string | undefined>();
  for (const s of familySteps) parentOf.set(familyName(s), repoName(s.oldState?.inputs?.buildArgs?.BASE ?? s.newState?.inputs?.buildArgs?.BASE));
  const familyOf = new Map<string, string | undefined>();
  for (const [service, s] of serviceImageSteps) familyOf.set(service, repoName(s.oldState?.inputs?.buildArgs?.FAMILY) ?? repoName(s.newState?.inputs?.buildArgs?.FAMILY));
  const descendsFrom = (family: string | undefined, ancestor: string): boolean => {
    for (let f = family, hops = 0; f !== undefined && hops < 32; f = parentOf.get(f), hops++) if (f === ancestor) return true;
    return false;
  };

  const services: ServiceReview[] = [];
  const names = [...new Set([...containers.keys(), ...serviceImageSteps.keys()])].sort();
  for (const service of names) {
    const imageStep = serviceImageSteps.get(service);
    const pull = pulls.get(service);
    const built = imageStep && imageStep.op !== "delete" && imageStep.op !== "delete-replaced";
    let image: ImageChange;
    if (imageStep && built) {
      const from = digestOf(imageStep.oldState?.outputs?.digest);
      const to = digestOf(imageStep.newState?.outputs?.digest);
      if (!changed(imageStep)) image = { status: "unchanged", from, to: from, inputs: [] };
      else if (imageStep.op === "create") image = { status: "new", to, inputs: [] };
      else image = { status: "rebuild", from, to: to !== from ? to : undefined, inputs: imageInputs("service", imageStep.oldState?.inputs, imageStep.newState?.inputs) };
    } else if (pull?.newState) {
      // A forced (pinned) image: only the pull says which digest the container gets. The build
      // it replaces (if any) goes away from the stack.
      const from = digestOf(pull.oldState?.inputs?.name) ?? digestOf(imageStep?.oldState?.outputs?.digest);
      const to = digestOf(pull.newState.inputs?.name);
      image = from !== to || imageStep ? { status: "pinned", from, to, inputs: ["pinned image"] } : { status: "unchanged", from, to: from, inputs: [] };
    } else {
      image = { status: imageStep ? "removed" : "unchanged", from: digestOf(imageStep?.oldState?.outputs?.digest), inputs: [] };
    }
    const cSteps = (containers.get(service) ?? []).filter(changed);
    let container: ContainerChange | undefined;
    if (cSteps.length) {
      const ops = cSteps.map((s) => s.op);
      const op = ops.includes("replace") || (ops.includes("create-replacement") && ops.includes("delete-replaced")) || ops.includes("delete-replaced") ? "replace" : ops[0];
      const main = cSteps.find((s) => s.oldState && s.newState) ?? cSteps[0];
      const name = String(state(main)?.inputs?.name ?? nameFromUrn(main.urn));
      container = { op, name, reasons: op === "create" ? ["new container"] : op === "delete" ? ["service removed from the stack"] : containerReasons(main.oldState, main.newState) };
    }
    services.push({ service, image, container });
  }

  const families: FamilyReview[] = familySteps.filter(changed).map((s) => {
    const family = familyName(s);
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

  const known = new Set<PreviewStep>([...familySteps, ...serviceImageSteps.values(), ...[...containers.values()].flat(), ...pulls.values()]);
  const other = steps
    .filter((s) => changed(s) && !known.has(s) && typeOfStep(s) !== "pulumi:pulumi:Stack" && !serviceOfParent.has(state(s)?.parent ?? "") && !typeOfStep(s).startsWith("fleet:"))
    .map((s) => `${s.op} ${typeOfStep(s)} ${nameFromUrn(s.urn)}`);

  const errors = (digest.diagnostics ?? []).filter((d) => d.severity === "error").map((d) => String(d.message ?? "").trim()).filter(Boolean);
  return {
    stack,
    services,
    families,
    other,
    totals: {
      imagesRebuilt: services.filter((s) => s.image.status === "rebuild" || s.image.status === "new").length + families.length,
      familiesRebuilt: families.length,
      containersRestarted: services.filter((s) => s.container?.op === "replace").length,
      containersChanged: services.filter((s) => s.container).length,
      servicesUnchanged: services.filter((s) => s.image.status === "unchanged" && !s.container).length,
      steps: { ...(digest.changeSummary ?? {}) },
    },
    policy,
    errors,
  };
}
