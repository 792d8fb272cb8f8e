import { createHash } from "crypto";
import * as http from "http";
import * as https from "https";
import { parsePinnedRef, PinnedRef } from "./reference";
import { plainHttpTo } from "./trust";

/** Media type of a CycloneDX JSON document (IANA). */
export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const EMPTY = { mediaType: "application/vnd.oci.empty.v1+json", content: "{}" };

/** The manifest kinds a digest or tag may name: single images and indexes, OCI and Docker. */
export const MANIFEST_TYPES: readonly string[] = [
  "application/vnd.oci.image.index.v1+json",
  OCI_MANIFEST,
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];
const ACCEPT = MANIFEST_TYPES.join(", ");

/** The tag an image's SBOM is kept under, beside the image: `sha256-<hex>.sbom` (cosign's convention). */
export function sbomTag(digest: string): string {
  return `${digest.replace(":", "-")}.sbom`;
}

/** What a request got: an HTTP status, or the network error that stopped it. */
export type Answer = { readonly status: number } | { readonly error: string };

/** A manifest's media type, digest and size, as a HEAD answers them. */
export interface ManifestHead {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** A manifest as stored: its media type and exact bytes (its digest is theirs). */
export interface Manifest {
  readonly mediaType: string;
  readonly body: Buffer;
}

/** Options of a Registry client. */
export interface RegistryOptions {
  /** Speak plain HTTP instead of HTTPS (registry/trust.ts decides). */
  readonly plainHttp: boolean;
  /** How long one request may take. Defaults to 30 000 ms. */
  readonly timeoutMs?: number;
}

/** A registry's answer: status, headers and body, read in full. */
interface Reply {
  readonly status: number;
  readonly ok: boolean;
  header(name: string): string | undefined;
  readonly body: Buffer;
}

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/**
 * The fleet's one client of the OCI distribution API (the few endpoints it uses: the /v2/ ping,
 * manifests, blobs and uploads), for one registry. Whether it speaks plain HTTP is the rule's
 * (registry/trust.ts), asked through `Registry.of` with the stack's Docker host.
 */
export class Registry {
  /** `http://host[:port]` or `https://host[:port]`. */
  public readonly base: string;
  /** Whether it speaks plain HTTP (what syft and Trivy are told too). */
  public readonly plainHttp: boolean;
  private readonly timeoutMs: number;

  constructor(
    public readonly host: string,
    opts: RegistryOptions,
  ) {
    this.plainHttp = opts.plainHttp;
    this.base = `${opts.plainHttp ? "http" : "https"}://${host}`;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** The client of `host`, in plain HTTP when the engine at `dockerHost` trusts it so. */
  static async of(host: string, dockerHost: string, timeoutMs?: number): Promise<Registry> {
    return new Registry(host, { plainHttp: await plainHttpTo(host, dockerHost), timeoutMs });
  }

  /** The client of the registry `image` is in. */
  static async forImage(image: string, dockerHost: string): Promise<Registry> {
    return Registry.of(parsePinnedRef(image).host, dockerHost);
  }

  /**
   * One request, its whole answer read. Node's http rather than fetch: no proxy from the
   * environment, no keep-alive, and no list of ports fetch refuses, so only the registry decides.
   * A GET or HEAD follows redirects (a registry may send blob reads to its storage).
   */
  private async call(method: string, path: string, init: { headers?: Record<string, string>; body?: Buffer } = {}, hops = 5): Promise<Reply> {
    const reply = await this.once(method, path, init);
    const location = reply.header("location");
    if ([301, 302, 303, 307, 308].includes(reply.status) && location && (method === "GET" || method === "HEAD") && hops > 0) {
      return this.call(method, new URL(location, path.startsWith("http") ? path : `${this.base}${path}`).toString(), init, hops - 1);
    }
    return reply;
  }

  private once(method: string, path: string, init: { headers?: Record<string, string>; body?: Buffer }): Promise<Reply> {
    const url = path.startsWith("http") ? path : `${this.base}${path}`;
    const client = url.startsWith("https:") ? https : http;
    const headers = { ...init.headers, ...(init.body ? { "Content-Length": String(init.body.length) } : {}) };
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`registry: ${method} ${url} failed: ${why}`));
      const req = client.request(url, { method, headers, agent: false, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => fail(e.message));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const header = (name: string) => (typeof res.headers[name] === "string" ? (res.headers[name] as string) : undefined);
          resolve({ status, ok: status >= 200 && status < 300, header, body: Buffer.concat(chunks) });
        });
      });
      req.on("timeout", () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on("error", (e) => fail(e.message));
      req.end(init.body);
    });
  }

  /** A request that never throws: its status, or why it got none. */
  private async answer(method: string, path: string, headers?: Record<string, string>): Promise<Answer> {
    try {
      return { status: (await this.call(method, path, { headers })).status };
    } catch (e) {
      return { error: (e as Error).message.replace(/^registry: \S+ \S+ failed: /, "") };
    }
  }

  /** The registry's answer to `GET /v2/` (200 when it serves the API without asking for a login). */
  ping(): Promise<Answer> {
    return this.answer("GET", "/v2/");
  }

  /** The registry's answer to HEAD on the manifest `image` (`host/repo@sha256:`) names: 200 when it has it. */
  check(image: string): Promise<Answer> {
    const ref = parsePinnedRef(image);
    return this.answer("HEAD", `/v2/${ref.repository}/manifests/${ref.digest}`, { Accept: ACCEPT });
  }

  /** The media type, digest and size of a manifest, or undefined when there is none. */
  async head(repository: string, reference: string): Promise<ManifestHead | undefined> {
    const r = await this.call("HEAD", `/v2/${repository}/manifests/${reference}`, { headers: { Accept: ACCEPT } });
    if (r.status === 404) return undefined;
    if (!r.ok) throw new Error(`registry: HEAD ${this.host}/${repository}:${reference} answered ${r.status}`);
    return { mediaType: r.header("content-type") ?? OCI_MANIFEST, digest: r.header("docker-content-digest") ?? "", size: Number(r.header("content-length") ?? 0) };
  }

  /** A manifest's exact bytes and media type, or undefined when there is none. */
  async getManifest(repository: string, reference: string, accept: string = ACCEPT): Promise<Manifest | undefined> {
    const r = await this.call("GET", `/v2/${repository}/manifests/${reference}`, { headers: { Accept: accept } });
    if (r.status === 404) return undefined;
    if (!r.ok) throw new Error(`registry: GET ${this.host}/${repository}@${reference} answered ${r.status}`);
    return { mediaType: (r.header("content-type") ?? OCI_MANIFEST).split(";")[0], body: r.body };
  }

  /** Stores a manifest under `reference` (a tag or its digest); returns its digest. */
  async putManifest(repository: string, reference: string, manifest: Manifest): Promise<string> {
    const r = await this.call("PUT", `/v2/${repository}/manifests/${reference}`, { headers: { "Content-Type": manifest.mediaType }, body: manifest.body });
    if (r.status !== 201) throw new Error(`registry: PUT ${this.host}/${repository}:${reference} answered ${r.status}: ${r.body.toString("utf8").slice(0, 300)}`);
    return sha256(manifest.body);
  }

  /** A blob, checked against its digest. */
  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const r = await this.call("GET", `/v2/${repository}/blobs/${digest}`);
    if (!r.ok) throw new Error(`registry: GET the blob ${this.host}/${repository}@${digest} answered ${r.status}`);
    const data = r.body;
    if (sha256(data) !== digest) throw new Error(`registry: the blob ${this.host}/${repository}@${digest} does not match its digest`);
    return data;
  }

  /** Uploads a blob (monolithic POST then PUT) unless the registry has it; returns its digest. */
  async pushBlob(repository: string, data: Buffer): Promise<string> {
    const digest = sha256(data);
    const there = await this.call("HEAD", `/v2/${repository}/blobs/${digest}`);
    if (there.ok) return digest;
    const start = await this.call("POST", `/v2/${repository}/blobs/uploads/`);
    const location = start.header("location");
    if (start.status !== 202 || !location) throw new Error(`registry: starting an upload to ${this.host}/${repository} answered ${start.status}`);
    const url = new URL(location, this.base);
    url.searchParams.set("digest", digest);
    const put = await this.call("PUT", url.toString(), { headers: { "Content-Type": "application/octet-stream" }, body: data });
    if (put.status !== 201) throw new Error(`registry: uploading a blob to ${this.host}/${repository} answered ${put.status}: ${put.body.toString("utf8").slice(0, 300)}`);
    return digest;
  }

  /**
   * Points `tag` of the image's repository at the pinned `image` (`host/repo@sha256:`): its manifest
   * is put back under the tag byte for byte, with its media type, so the tag names that very digest.
   */
  async tag(image: string, tag: string): Promise<void> {
    const ref = parsePinnedRef(image);
    const manifest = await this.getManifest(ref.repository, ref.digest);
    if (!manifest) throw new Error(`cannot tag ${image} as ${this.host}/${ref.repository}:${tag}: the registry has no manifest ${ref.digest}`);
    await this.putManifest(ref.repository, tag, manifest).catch((e: Error) => {
      throw new Error(`cannot tag ${image} as ${this.host}/${ref.repository}:${tag}: ${e.message}`);
    });
  }

  /**
   * Stores `sbom` beside `image` as an OCI artifact whose subject is the image, tagged
   * `sha256-<hex>.sbom`. Returns the artifact as `host/repo@sha256:...`.
   */
  async putSbom(image: string, sbom: string, annotations: Readonly<Record<string, string>> = {}): Promise<string> {
    const ref = parsePinnedRef(image);
    const subject = await this.head(ref.repository, ref.digest);
    if (!subject) throw new Error(`registry: ${image} is not in the registry`);
    const layer = Buffer.from(sbom, "utf8");
    const layerDigest = await this.pushBlob(ref.repository, layer);
    const configDigest = await this.pushBlob(ref.repository, Buffer.from(EMPTY.content));
    const body = Buffer.from(
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
    const digest = await this.putManifest(ref.repository, sbomTag(ref.digest), { mediaType: OCI_MANIFEST, body }).catch((e: Error) => {
      throw new Error(`registry: storing the SBOM of ${image}: ${e.message}`);
    });
    return `${ref.host}/${ref.repository}@${digest}`;
  }

  /** The SBOM kept beside `image` and its artifact reference, or undefined when it has none. */
  async getSbom(image: string): Promise<{ sbom: string; artifact: string } | undefined> {
    const ref = parsePinnedRef(image);
    const got = await this.getManifest(ref.repository, sbomTag(ref.digest), OCI_MANIFEST);
    if (!got) return undefined;
    const manifest = JSON.parse(got.body.toString("utf8")) as { layers?: { mediaType: string; digest: string }[]; subject?: { digest: string } };
    const layer = manifest.layers?.find((l) => l.mediaType === CYCLONEDX_MEDIA_TYPE);
    if (!layer || manifest.subject?.digest !== ref.digest) throw new Error(`registry: ${ref.repository}:${sbomTag(ref.digest)} is not an SBOM of ${ref.digest}`);
    const data = await this.getBlob(ref.repository, layer.digest);
    return { sbom: data.toString("utf8"), artifact: `${ref.host}/${ref.repository}@${sha256(got.body)}` };
  }

  /**
   * The git revision an image was built from: its `org.opencontainers.image.revision` label, read
   * from the image's config in the registry ("unknown" when it has none). An index is read through
   * its first image.
   */
  async revisionOf(image: string): Promise<string> {
    const ref: PinnedRef = parsePinnedRef(image);
    const get = async (reference: string) => {
      const m = await this.getManifest(ref.repository, reference);
      if (!m) throw new Error(`registry: ${this.host}/${ref.repository}@${reference} is not in the registry`);
      return JSON.parse(m.body.toString("utf8")) as { manifests?: { digest: string }[]; config?: { digest: string } };
    };
    let manifest = await get(ref.digest);
    if (manifest.manifests?.length) manifest = await get(manifest.manifests[0].digest);
    if (!manifest.config) return "unknown";
    const config = JSON.parse((await this.getBlob(ref.repository, manifest.config.digest)).toString("utf8")) as { config?: { Labels?: Record<string, string> } };
    return config.config?.Labels?.["org.opencontainers.image.revision"] ?? "unknown";
  }
}

