import * as pulumi from "@pulumi/pulumi";

/** Inputs of a PrevTag. */
export interface PrevTagArgs {
  /** The `repo@sha256:` the service runs now. When it changes, the one it replaces becomes `:prev`. */
  readonly image: pulumi.Input<string>;
  /** The tag to move. Defaults to "prev". */
  readonly tag?: pulumi.Input<string>;
}

interface PrevTagState {
  readonly image: string;
  readonly tag: string;
  /** The image the tag points at, or "" before any change. */
  readonly previous?: string;
}

/**
 * Moves the tag to the image a service ran before, through the registry API: GET the old digest's
 * manifest (any of the OCI and Docker single and index media types) and PUT it back under the tag
 * with the same media type. Plain HTTP for a loopback registry or one in FLEET_INSECURE_REGISTRIES.
 * A dynamic provider: its methods are serialized into the state and run in the provider process
 * all dynamic resources share, so they require what they use and capture nothing.
 */
const prevTagProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: PrevTagState, news: PrevTagState) {
    return { changes: olds.image !== news.image || olds.tag !== news.tag, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: PrevTagState) {
    // A service's first image has nothing before it: the tag is left where it is (or absent).
    return { id: `prev-${inputs.image.slice(inputs.image.lastIndexOf("@") + 8, inputs.image.lastIndexOf("@") + 20)}`, outs: { ...inputs, previous: "" } };
  },
  async update(id: string, olds: PrevTagState, news: PrevTagState) {
    const http = require("http") as typeof import("http");
    const https = require("https") as typeof import("https");
    const accept = [
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json",
    ].join(", ");
    if (olds.image === news.image) return { outs: { ...news, previous: olds.previous ?? "" } };
    const at = olds.image.lastIndexOf("@");
    let name = olds.image.slice(0, at);
    if (name.lastIndexOf(":") > name.lastIndexOf("/")) name = name.slice(0, name.lastIndexOf(":"));
    const host = name.slice(0, name.indexOf("/"));
    const repository = name.slice(name.indexOf("/") + 1);
    const digest = olds.image.slice(at + 1);
    const insecure = (process.env.FLEET_INSECURE_REGISTRIES ?? "").split(",").map((h) => h.trim());
    const hostname = host.replace(/:\d+$/, "");
    const scheme = hostname === "localhost" || /^127\./.test(hostname) || insecure.includes(host) ? "http" : "https";
    const call = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
      new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
        const client = scheme === "https" ? https : http;
        const req = client.request(`${scheme}://${host}${path}`, { method, headers, agent: false, timeout: 30000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"] ?? ""), body: Buffer.concat(chunks) }));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer from ${host} within 30s`)));
        req.on("error", reject);
        req.end(body);
      });
    const got = await call("GET", `/v2/${repository}/manifests/${digest}`, { Accept: accept });
    if (got.status !== 200) throw new Error(`cannot tag ${olds.image} as ${name}:${news.tag}: the registry answered ${got.status} to GET of its manifest`);
    const put = await call("PUT", `/v2/${repository}/manifests/${news.tag}`, { "Content-Type": got.type.split(";")[0], "Content-Length": String(got.body.length) }, got.body);
    if (put.status !== 201) throw new Error(`cannot tag ${olds.image} as ${name}:${news.tag}: the registry answered ${put.status} to PUT: ${put.body.toString("utf8").slice(0, 300)}`);
    return { outs: { ...news, previous: olds.image } };
  },
  async delete() {
    // The tag stays in the registry: it names an image that ran, which a rollback may want.
  },
};

/**
 * The registry tag `<service>:prev` (the plan's -prev images): a movable tag on the digest that ran
 * before the current one, moved on every deploy that changes the service's image. Make it depend on
 * the container, so that only an image that replaced the running one moves it.
 */
export class PrevTag extends pulumi.dynamic.Resource {
  /** The image the tag points at now ("" until the service's image first changes). */
  public readonly previous!: pulumi.Output<string>;

  constructor(name: string, args: PrevTagArgs, opts?: pulumi.CustomResourceOptions) {
    super(prevTagProvider, name, { image: args.image, tag: args.tag ?? "prev", previous: undefined }, opts, "fleet", "PrevTag");
  }
}
