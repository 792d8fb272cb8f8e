import { createHash } from "crypto";

/** Media type of a CycloneDX JSON document (IANA). */
export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const EMPTY = { mediaType: "application/vnd.oci.empty.v1+json", content: "{}" };
const MANIFEST_TYPES = [OCI_MANIFEST, "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

/** `host[:port]/repo/path@sha256:hex`, split. */
export interface ImageRef {
  readonly host: string;
  readonly repository: string;
  readonly digest: string;
}

/** Splits a pinned reference; a tag before the digest is dropped. */
export function parseImageRef(image: string): ImageRef {
  const m = /^([^/]+)\/([^@]+?)(:[^/@]+)?@(sha256:[0-9a-f]{64})$/.exec(image);
  if (!m) throw new Error(`${JSON.stringify(image)} is not an image pinned by digest (host/repo@sha256:...)`);
  return { host: m[1], repository: m[2], digest: m[4] };
}

/** The tag an image's SBOM is kept under, beside the image: `sha256-<hex>.sbom` (cosign's convention). */
export function sbomTag(digest: string): string {
  return `${digest.replace(":", "-")}.sbom`;
}

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/**
 * A small client of the OCI distribution API, for artifacts kept beside images. Loopback
 * registries are spoken to in plain HTTP (as the fleet's local registry serves), others in HTTPS.
 */
export class Registry {
  private readonly base: string;

  constructor(host: string) {
    const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
    this.base = `${loopback || process.env.FLEET_REGISTRY_HTTP === "true" ? "http" : "https"}://${host}/v2`;
  }

  private async call(method: string, url: string, init: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<Response> {
    const full = url.startsWith("http") ? url : `${this.base}${url}`;
    try {
      return await fetch(full, { method, headers: init.headers, body: init.body ? new Uint8Array(init.body) : undefined, redirect: "follow" });
    } catch (e) {
      throw new Error(`registry: ${method} ${full} failed: ${(e as Error).cause ?? (e as Error).message}`);
    }
  }

  /** The media type, digest and size of a manifest, or undefined when there is none. */
  async head(repository: string, reference: string): Promise<{ mediaType: string; digest: string; size: number } | undefined> {
    const r = await this.call("HEAD", `/${repository}/manifests/${reference}`, { headers: { Accept: MANIFEST_TYPES.join(", ") } });
    if (r.status === 404) return undefined;
    if (!r.ok) throw new Error(`registry: HEAD ${repository}:${reference} answered ${r.status}`);
    return { mediaType: r.headers.get("content-type") ?? OCI_MANIFEST, digest: r.headers.get("docker-content-digest") ?? "", size: Number(r.headers.get("content-length") ?? 0) };
  }

  private async pushBlob(repository: string, data: Buffer): Promise<string> {
    const digest = sha256(data);
    if ((await this.call("HEAD", `/${repository}/blobs/${digest}`)).ok) return digest;
    const start = await this.call("POST", `/${repository}/blobs/uploads/`);
    const location = start.headers.get("location");
    if (start.status !== 202 || !location) throw new Error(`registry: starting an upload to ${repository} answered ${start.status}`);
    const url = new URL(location, this.base);
    url.searchParams.set("digest", digest);
    const put = await this.call("PUT", url.toString(), { headers: { "Content-Type": "application/octet-stream" }, body: data });
    if (put.status !== 201) throw new Error(`registry: uploading a blob to ${repository} answered ${put.status}: ${await put.text()}`);
    return digest;
  }

  /**
   * Stores `sbom` beside `image` as an OCI artifact whose subject is the image, tagged
   * `sha256-<hex>.sbom`. Returns the artifact as `host/repo@sha256:...`.
   */
  async putSbom(image: string, sbom: string, annotations: Readonly<Record<string, string>> = {}): Promise<string> {
    const ref = parseImageRef(image);
    const subject = await this.head(ref.repository, ref.digest);
    if (!subject) throw new Error(`registry: ${image} is not in the registry`);
    const layer = Buffer.from(sbom, "utf8");
    const layerDigest = await this.pushBlob(ref.repository, layer);
    const configDigest = await this.pushBlob(ref.repository, Buffer.from(EMPTY.content));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: CYCLONEDX_MEDIA_TYPE,
        config: { mediaType: EMPTY.mediaType, digest: configDigest, size: EMPTY.content.length },
        layers: [{ mediaType: CYCLONEDX_MEDIA_TYPE, digest: layerDigest, size: layer.length, annotations: { "org.opencontainers.image.title": "sbom.cdx.json" } }],
        subject: { mediaType: subject.mediaType, digest: ref.digest, size: subject.size },
        annotations,
      }),
    );
    const put = await this.call("PUT", `/${ref.repository}/manifests/${sbomTag(ref.digest)}`, { headers: { "Content-Type": OCI_MANIFEST }, body: manifest });
    if (put.status !== 201) throw new Error(`registry: storing the SBOM of ${image} answered ${put.status}: ${await put.text()}`);
    return `${ref.host}/${ref.repository}@${sha256(manifest)}`;
  }

  /** The SBOM kept beside `image` and its artifact reference, or undefined when it has none. */
  async getSbom(image: string): Promise<{ sbom: string; artifact: string } | undefined> {
    const ref = parseImageRef(image);
    const r = await this.call("GET", `/${ref.repository}/manifests/${sbomTag(ref.digest)}`, { headers: { Accept: OCI_MANIFEST } });
    if (r.status === 404) return undefined;
    if (!r.ok) throw new Error(`registry: GET the SBOM of ${image} answered ${r.status}`);
    const body = Buffer.from(await r.arrayBuffer());
    const manifest = JSON.parse(body.toString("utf8")) as { layers?: { mediaType: string; digest: string }[]; subject?: { digest: string } };
    const layer = manifest.layers?.find((l) => l.mediaType === CYCLONEDX_MEDIA_TYPE);
    if (!layer || manifest.subject?.digest !== ref.digest) throw new Error(`registry: ${ref.repository}:${sbomTag(ref.digest)} is not an SBOM of ${ref.digest}`);
    const blob = await this.call("GET", `/${ref.repository}/blobs/${layer.digest}`);
    if (!blob.ok) throw new Error(`registry: GET the SBOM blob ${layer.digest} of ${image} answered ${blob.status}`);
    const data = Buffer.from(await blob.arrayBuffer());
    if (sha256(data) !== layer.digest) throw new Error(`registry: the SBOM blob of ${image} does not match its digest ${layer.digest}`);
    return { sbom: data.toString("utf8"), artifact: `${ref.host}/${ref.repository}@${sha256(body)}` };
  }

  /**
   * The git revision an image was built from: its `org.opencontainers.image.revision` label, read
   * from the image's config in the registry ("unknown" when it has none). An index is read through
   * its first image.
   */
  async revisionOf(image: string): Promise<string> {
    const ref = parseImageRef(image);
    const get = async (reference: string) => {
      const r = await this.call("GET", `/${ref.repository}/manifests/${reference}`, { headers: { Accept: MANIFEST_TYPES.join(", ") } });
      if (!r.ok) throw new Error(`registry: GET ${ref.repository}@${reference} answered ${r.status}`);
      return (await r.json()) as { manifests?: { digest: string }[]; config?: { digest: string } };
    };
    let manifest = await get(ref.digest);
    if (manifest.manifests?.length) manifest = await get(manifest.manifests[0].digest);
    if (!manifest.config) return "unknown";
    const config = await this.call("GET", `/${ref.repository}/blobs/${manifest.config.digest}`);
    if (!config.ok) throw new Error(`registry: GET the config of ${image} answered ${config.status}`);
    const labels = ((await config.json()) as { config?: { Labels?: Record<string, string> } }).config?.Labels ?? {};
    return labels["org.opencontainers.image.revision"] ?? "unknown";
  }
}
