/** An image reference split for the registry API: `host[:port]/repository[:tag][@sha256:<hex>]`. */
export interface ImageRef {
  /** The registry, `host[:port]` as written (the key Docker's registry settings use). */
  readonly host: string;
  /** The repository path inside the registry, like `fleet/central-error-bus`. */
  readonly repository: string;
  /** The tag, when one is written. */
  readonly tag?: string;
  /** The manifest digest `sha256:<64 hex>`, when the reference is pinned. */
  readonly digest?: string;
}

/** An image reference pinned by digest. */
export type PinnedRef = ImageRef & { readonly digest: string };

const GRAMMAR = "host[:port]/repo[:tag][@sha256:<64 hex digits>]";
// The distribution reference grammar, narrowed to what the fleet writes: a registry host always
// (a name, an IPv4 address or a bracketed IPv6 one), lower-case path components, an optional tag
// and an optional sha256 digest. github.com/distribution/reference grammar.go is the source.
const HOST = /^([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(:\d{1,5})?$/;
const COMPONENT = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Why `value` is not a reference, or undefined with its parts when it is one. */
function split(value: string): { ref: ImageRef } | { why: string } {
  const at = value.indexOf("@");
  const name = at < 0 ? value : value.slice(0, at);
  const digest = at < 0 ? undefined : value.slice(at + 1);
  if (digest !== undefined && !DIGEST.test(digest)) return { why: `its digest must be sha256:<64 lower-case hex digits>; got ${JSON.stringify(digest)}` };
  const slash = name.indexOf("/");
  if (slash < 0) return { why: "it names no registry host before the first /" };
  const host = name.slice(0, slash);
  if (!HOST.test(host)) return { why: `${JSON.stringify(host)} is not a registry host[:port]` };
  let path = name.slice(slash + 1);
  let tag: string | undefined;
  // A colon after the last slash starts a tag; the one before the first slash is the port's.
  const colon = path.lastIndexOf(":");
  if (colon > path.lastIndexOf("/")) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) return { why: `${JSON.stringify(tag)} is not a tag (letters, digits, _ . -, at most 128)` };
  }
  const bad = path.split("/").find((c) => !COMPONENT.test(c));
  if (bad !== undefined) return { why: `the repository path ${JSON.stringify(path)} has ${bad ? `the component ${JSON.stringify(bad)}, which is not` : "an empty component; each must be"} lower-case letters and digits joined by . _ __ or -` };
  return { ref: { host, repository: path, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) } };
}

/**
 * Splits an image reference, pinned or not: `127.0.0.1:5000/fleet/x:tag@sha256:...` ->
 * `{host: "127.0.0.1:5000", repository: "fleet/x", tag: "tag", digest: "sha256:..."}`. Throws an
 * error naming the value and what is wrong with it.
 */
export function parseImageRef(value: string): ImageRef {
  const r = split(value);
  if ("why" in r) throw new Error(`${JSON.stringify(value)} is not an image reference ${GRAMMAR}: ${r.why}`);
  return r.ref;
}

/** Splits a reference that must be pinned by digest (a tag before the digest is allowed and kept). */
export function parsePinnedRef(value: string): PinnedRef {
  const ref = parseImageRef(value);
  if (ref.digest === undefined) throw new Error(`${JSON.stringify(value)} is not pinned by digest: host[:port]/repo[:tag]@sha256:<64 hex digits>`);
  return ref as PinnedRef;
}

/** Whether `value` is an image reference pinned by digest (`host[:port]/repo[:tag]@sha256:<64 hex>`). */
export function isPinnedRef(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const r = split(value);
  return "ref" in r && r.ref.digest !== undefined;
}

/** `host/repository`, the name a tag or digest is appended to. */
export function repositoryOf(ref: ImageRef): string {
  return `${ref.host}/${ref.repository}`;
}
