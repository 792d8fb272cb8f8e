import { strict as assert } from "assert";
import { createHash, randomUUID } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { run } from "../../proc";
import { engineRegistries, isPinnedRef, LOOPBACK_ONLY, lookupAll, parseImageRef, parsePinnedRef, plainHttp, Registry, RegistryConfig, Resolve } from "../../registry";
import { tempDir } from "../support/project";

const FIXTURES = path.join(__dirname, "..", "fixtures", "registry");
/** `docker info --format '{{json .RegistryConfig}}'` of a Docker 20.10 engine, as recorded. */
const engine = (name: string): RegistryConfig => JSON.parse(fs.readFileSync(path.join(FIXTURES, `docker-20.10-${name}.json`), "utf8"));
const sha = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const D = `sha256:${"a".repeat(64)}`;

/** A resolver that knows only `hosts` (as /etc/hosts would), and fails for any other name. */
const hostsFile =
  (hosts: Readonly<Record<string, readonly string[]>>): Resolve =>
  async (name) => {
    if (!hosts[name]) throw new Error(`getaddrinfo ENOTFOUND ${name}`);
    return hosts[name];
  };

describe("registry: image references", () => {
  it("splits host[:port]/repo[:tag][@sha256:...], pinned or not", () => {
    assert.deepEqual(parseImageRef(`127.0.0.1:5000/e2e-rollback/central-error-bus:20261127-abc@${D}`), { host: "127.0.0.1:5000", repository: "e2e-rollback/central-error-bus", tag: "20261127-abc", digest: D });
    assert.deepEqual(parseImageRef(`registry.home.arpa:5000/fleet/x@${D}`), { host: "registry.home.arpa:5000", repository: "fleet/x", digest: D });
    assert.deepEqual(parseImageRef("registry.home.arpa:5000/fleet/family-web:buildcache"), { host: "registry.home.arpa:5000", repository: "fleet/family-web", tag: "buildcache" });
    assert.deepEqual(parseImageRef("127.0.0.1:5000/fleet"), { host: "127.0.0.1:5000", repository: "fleet" });
    assert.deepEqual(parseImageRef(`[::1]:5000/a/b_c@${D}`), { host: "[::1]:5000", repository: "a/b_c", digest: D });
    assert.deepEqual(parsePinnedRef(`r/x@${D}`), { host: "r", repository: "x", digest: D });
    assert.equal(isPinnedRef(`127.0.0.1:5000/fleet/x:t@${D}`), true);
    assert.equal(isPinnedRef("127.0.0.1:5000/fleet/x:t"), false);
    assert.equal(isPinnedRef(42), false);
  });

  it("rejects what is not a reference, naming the value and what is wrong", () => {
    assert.throws(() => parseImageRef(`central-error-bus@${D}`), /^Error: "central-error-bus@sha256:a{64}" is not an image reference host\[:port\]\/repo\[:tag\]\[@sha256:<64 hex digits>\]: it names no registry host before the first \/$/);
    assert.throws(() => parseImageRef("127.0.0.1:5000/fleet/x@sha256:abc"), /"127\.0\.0\.1:5000\/fleet\/x@sha256:abc" is not an image reference .*: its digest must be sha256:<64 lower-case hex digits>; got "sha256:abc"$/);
    assert.throws(() => parseImageRef("127.0.0.1:5000/Fleet/x"), /the repository path "Fleet\/x" has the component "Fleet", which is not lower-case/);
    assert.throws(() => parseImageRef("127.0.0.1:5000/fleet//x"), /the repository path "fleet\/\/x" has an empty component/);
    assert.throws(() => parseImageRef("host_name:5000/fleet/x"), /"host_name:5000" is not a registry host\[:port\]/);
    assert.throws(() => parseImageRef("127.0.0.1:5000/fleet/x:-bad"), /"-bad" is not a tag/);
    assert.throws(() => parsePinnedRef("127.0.0.1:5000/e2e/x:latest"), /^Error: "127\.0\.0\.1:5000\/e2e\/x:latest" is not pinned by digest: host\[:port\]\/repo\[:tag\]@sha256:<64 hex digits>$/);
  });
});

describe("registry: the plain-HTTP rule is the stack engine's trust (moby isSecureIndex)", () => {
  const nowhere = hostsFile({});

  it("speaks plain HTTP to a loopback registry through the engine's default 127.0.0.0/8", async () => {
    assert.equal(await plainHttp("127.0.0.1:5000", engine("default"), nowhere), true);
    assert.equal(await plainHttp("127.0.0.7:5000", engine("default"), nowhere), true);
    assert.equal(await plainHttp("localhost:5000", engine("default"), hostsFile({ localhost: ["::1", "127.0.0.1"] })), true);
    // Without the CIDR (an engine configured with none), loopback is HTTPS like any other.
    assert.equal(await plainHttp("127.0.0.1:5000", { ...engine("default"), InsecureRegistryCIDRs: [] }, nowhere), false);
  });

  it("speaks plain HTTP to a LAN name the engine trusts in IndexConfigs (scripts/home-setup.sh), whatever it resolves to", async () => {
    const lan = hostsFile({ "registry.home.arpa": ["192.168.1.20"] });
    assert.equal(await plainHttp("registry.home.arpa:5000", engine("home"), lan), true);
    assert.equal(await plainHttp("registry.home.arpa:5000", engine("home"), nowhere), true);
    // The same name untrusted, or on another port than the one trusted, is HTTPS.
    assert.equal(await plainHttp("registry.home.arpa:5000", engine("default"), lan), false);
    assert.equal(await plainHttp("registry.home.arpa:5001", engine("home"), lan), false);
    // An index the engine lists as secure is HTTPS even on loopback.
    assert.equal(await plainHttp("127.0.0.1:5000", { ...engine("default"), IndexConfigs: { "127.0.0.1:5000": { Name: "127.0.0.1:5000", Secure: true } } }, nowhere), false);
  });

  it("speaks plain HTTP to a LAN name that /etc/hosts maps into 127.0.0.0/8, as the engine does", async () => {
    assert.equal(await plainHttp("registry.home.arpa:5000", engine("default"), hostsFile({ "registry.home.arpa": ["127.0.1.1"] })), true);
    // The resolver the rule uses by default reads /etc/hosts: `localhost` is there on every Linux.
    assert.ok((await lookupAll("localhost")).some((a) => a === "::1" || a.startsWith("127.")));
  });

  it("speaks HTTPS to a name the engine does not trust, or that does not resolve", async () => {
    assert.equal(await plainHttp("registry.lan:5000", engine("home"), hostsFile({ "registry.lan": ["192.168.1.30"] })), false);
    assert.equal(await plainHttp("registry.lan:5000", engine("home"), nowhere), false);
    assert.equal(await plainHttp("10.0.0.2:5000", engine("lan-cidr"), nowhere), false);
    assert.equal(await plainHttp("192.168.1.7:5000", engine("lan-cidr"), nowhere), true);
  });

  it("falls back to loopback only when the engine cannot be asked, and says why only in its source", async () => {
    const gone = `unix://${path.join(os.tmpdir(), `fleet-no-engine-${process.pid}.sock`)}`;
    const asked = await engineRegistries(gone);
    assert.deepEqual(asked.config, LOOPBACK_ONLY);
    assert.match(asked.source, /^loopback only: the engine unix:\/\/\S+ could not be asked/);
    assert.equal(await engineRegistries(gone), asked, "asked once per engine and process");
    assert.equal(await plainHttp("[::1]:5000", LOOPBACK_ONLY, nowhere), true);
    assert.equal(await plainHttp("registry.home.arpa:5000", LOOPBACK_ONLY, nowhere), false);
  });

  it("asks the engine at the stack's Docker host with docker info", async function () {
    if (run("docker", ["--version"]).status !== 0) this.skip();
    // A stand-in engine API on a unix socket: /_ping, then /info with the home engine's settings.
    const dir = tempDir("fleet-engine-");
    const socket = path.join(dir, "docker.sock");
    const api = http.createServer((req, res) => {
      res.setHeader("Api-Version", "1.41");
      res.setHeader("Content-Type", req.url?.endsWith("/_ping") ? "text/plain" : "application/json");
      res.end(req.url?.endsWith("/_ping") ? "OK" : req.url?.endsWith("/info") ? JSON.stringify({ Name: "home", ServerVersion: "20.10.24", RegistryConfig: engine("home") }) : "{}");
    });
    await new Promise<void>((r) => api.listen(socket, r));
    try {
      const asked = await engineRegistries(`unix://${socket}`);
      assert.equal(asked.source, `docker info of unix://${socket}`);
      // Newer docker clients leave out the fields the engine deprecated; the rule reads these two.
      assert.deepEqual(asked.config.IndexConfigs, engine("home").IndexConfigs);
      assert.deepEqual(asked.config.InsecureRegistryCIDRs, ["127.0.0.0/8"]);
    } finally {
      api.close();
    }
  });
});

/**
 * A registry of the few distribution endpoints the client uses, in memory: the /v2/ ping, manifests
 * (HEAD, GET, PUT by tag or digest), blobs (HEAD, GET) and monolithic uploads (POST, then PUT).
 */
function tinyRegistry(): http.Server {
  const manifests = new Map<string, { type: string; body: Buffer }>();
  const blobs = new Map<string, Buffer>();
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url!, "http://registry");
      const body = Buffer.concat(chunks);
      const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
      const upload = /^\/v2\/(.+)\/blobs\/uploads\/(.*)$/.exec(url.pathname);
      if (url.pathname === "/v2/") return res.end("{}");
      if (upload && req.method === "POST") {
        res.writeHead(202, { Location: `/v2/${upload[1]}/blobs/uploads/${randomUUID()}` });
        return res.end();
      }
      if (upload && req.method === "PUT") {
        const digest = url.searchParams.get("digest")!;
        if (sha(body) !== digest) return res.writeHead(400).end("DIGEST_INVALID");
        blobs.set(`${upload[1]}@${digest}`, body);
        return res.writeHead(201).end();
      }
      if (m?.[2] === "manifests" && req.method === "PUT") {
        const stored = { type: String(req.headers["content-type"]), body };
        manifests.set(`${m[1]}:${m[3]}`, stored);
        manifests.set(`${m[1]}:${sha(body)}`, stored);
        return res.writeHead(201, { "Docker-Content-Digest": sha(body) }).end();
      }
      if (m?.[2] === "manifests") {
        const found = manifests.get(`${m[1]}:${m[3]}`);
        if (!found) return res.writeHead(404).end();
        res.writeHead(200, { "Content-Type": found.type, "Docker-Content-Digest": sha(found.body), "Content-Length": found.body.length });
        return res.end(req.method === "HEAD" ? undefined : found.body);
      }
      if (m?.[2] === "blobs") {
        const found = blobs.get(`${m[1]}@${m[3]}`);
        if (!found) return res.writeHead(404).end();
        res.writeHead(200, { "Content-Length": found.length });
        return res.end(req.method === "HEAD" ? undefined : found);
      }
      return res.writeHead(404).end();
    });
  });
}

describe("registry: the OCI distribution client", () => {
  let server: http.Server;
  let host = "";
  let registry: Registry;
  let image = "";

  before(async () => {
    server = tinyRegistry();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    registry = new Registry(host, { plainHttp: true, timeoutMs: 5000 });
    // An image: its config (with the revision label), one layer, and its manifest.
    const config = Buffer.from(JSON.stringify({ config: { Labels: { "org.opencontainers.image.revision": "f".repeat(40) } } }));
    const layer = Buffer.from("layer");
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: await registry.pushBlob("fleet/x", config), size: config.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: await registry.pushBlob("fleet/x", layer), size: layer.length }],
    };
    const digest = await registry.putManifest("fleet/x", "20260101-abcdef0", { mediaType: manifest.mediaType, body: Buffer.from(JSON.stringify(manifest)) });
    image = `${host}/fleet/x:20260101-abcdef0@${digest}`;
  });

  after(() => server.close());

  it("pings /v2/ and checks a digest, in the scheme it was given", async () => {
    assert.deepEqual(await registry.ping(), { status: 200 });
    assert.deepEqual(await registry.check(image), { status: 200 });
    assert.deepEqual(await registry.check(`${host}/fleet/x@${D}`), { status: 404 });
    const tls = await new Registry(host, { plainHttp: false, timeoutMs: 5000 }).ping();
    assert.ok("error" in tls, "HTTPS to a plain HTTP registry gets no answer");
  });

  it("is spoken to in plain HTTP on loopback when the stack's engine cannot be asked", async () => {
    const r = await Registry.of(host, `unix://${path.join(os.tmpdir(), `fleet-no-engine-${process.pid}.sock`)}`);
    assert.equal(r.base, `http://${host}`);
    assert.deepEqual(await r.ping(), { status: 200 });
  });

  it("moves a tag to a pinned image, byte for byte", async () => {
    await registry.tag(image, "prev");
    assert.equal((await registry.head("fleet/x", "prev"))?.digest, parsePinnedRef(image).digest);
    await assert.rejects(registry.tag(`${host}/fleet/x@${D}`, "prev"), /cannot tag \S+ as \S+\/fleet\/x:prev: the registry has no manifest sha256:a{64}/);
  });

  it("keeps an SBOM beside the image and reads it back, and reads the image's revision", async () => {
    assert.equal(await registry.getSbom(image), undefined);
    const sbom = JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", components: [] });
    const artifact = await registry.putSbom(image, sbom, { "org.opencontainers.image.created": "2026-01-01T00:00:00Z" });
    assert.match(artifact, new RegExp(`^${host.replace(/\./g, "\\.")}/fleet/x@sha256:[0-9a-f]{64}$`));
    assert.deepEqual(await registry.getSbom(image), { sbom, artifact });
    assert.equal(await registry.revisionOf(image), "f".repeat(40));
  });
});
