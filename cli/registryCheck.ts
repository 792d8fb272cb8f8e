import * as http from "http";
import * as https from "https";

/** The manifest kinds a pinned digest may name: single images and indexes, OCI and Docker. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** A `host[:port]/path@sha256:...` reference split for the registry API. */
export interface ImageRef {
  readonly host: string;
  readonly repository: string;
  readonly digest: string;
}

/** Splits `127.0.0.1:5000/fleet/central-error-bus@sha256:...` (a tag before `@` is ignored). */
export function splitRef(ref: string): ImageRef {
  const at = ref.lastIndexOf("@");
  let name = ref.slice(0, at);
  // A colon after the last slash starts a tag; the one before the first slash is the port's.
  if (name.lastIndexOf(":") > name.lastIndexOf("/")) name = name.slice(0, name.lastIndexOf(":"));
  const slash = name.indexOf("/");
  return { host: name.slice(0, slash), repository: name.slice(slash + 1), digest: ref.slice(at + 1) };
}

/**
 * Whether a registry is spoken to over plain HTTP: a loopback one (the local registry `npm run
 * infra` starts), or one listed in FLEET_INSECURE_REGISTRIES (comma-separated `host:port`).
 */
export function plainHttp(host: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const name = host.replace(/:\d+$/, "");
  const insecure = (env.FLEET_INSECURE_REGISTRIES ?? "").split(",").map((h) => h.trim()).filter(Boolean);
  return name === "localhost" || /^127\./.test(name) || name === "[::1]" || insecure.includes(host);
}

/** The registry's answer to HEAD on a manifest: its HTTP status, or the network error. */
export function headManifest(ref: string, env: NodeJS.ProcessEnv = process.env): Promise<{ status: number; error?: string }> {
  const r = splitRef(ref);
  const url = `${plainHttp(r.host, env) ? "http" : "https"}://${r.host}/v2/${r.repository}/manifests/${r.digest}`;
  const client = url.startsWith("https:") ? https : http;
  return new Promise((resolve) => {
    const req = client.request(url, { method: "HEAD", headers: { Accept: MANIFEST_ACCEPT }, agent: false, timeout: 10000 }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${r.host} within 10s`)));
    req.on("error", (e) => resolve({ status: 0, error: e.message }));
    req.end();
  });
}

/**
 * The pins whose digest the registry no longer has (or could not be asked about), each as one line
 * naming the service and the image. Empty when every one is there.
 */
export async function missingImages(pins: ReadonlyArray<{ service: string; image: string }>, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const answers = await Promise.all(pins.map(async (p) => ({ ...p, answer: await headManifest(p.image, env) })));
  return answers
    .filter((a) => a.answer.status !== 200)
    .map((a) => `${a.service}: ${a.image} ${a.answer.status === 404 ? "is no longer in the registry" : a.answer.error ? `could not be checked: ${a.answer.error}` : `could not be checked: the registry answered ${a.answer.status}`}`);
}
