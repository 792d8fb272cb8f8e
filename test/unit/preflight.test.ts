import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { serviceProblems } from "../../preflight/services";
import { ResolvedFleet } from "../../stack";
import { tempDir } from "../support/project";

/**
 * The preflight against real sockets on this machine: a registry, a Docker engine API and a
 * BuildKit socket that answer, and the same with each of them gone.
 */
describe("preflight: what an up needs must answer before anything changes", function () {
  const dir = tempDir("fleet-preflight-");
  const digest = `sha256:${"ab".repeat(32)}`;
  const servers: (http.Server | net.Server)[] = [];
  let registry = "";
  const engineSocket = path.join(dir, "docker.sock");
  const buildkitSocket = path.join(dir, "buildkitd.sock");
  let savedDockerConfig: string | undefined;

  const fleet = (over: Partial<ResolvedFleet> = {}): ResolvedFleet =>
    ({
      stack: "t",
      stackFile: "Pulumi.t.yaml",
      dockerHost: `unix://${engineSocket}`,
      registry: `${registry}/fleet`,
      builder: "probe",
      baseImage: `${registry}/fleet/debian-bookworm@${digest}`,
      bindAddress: "127.0.0.2",
      families: [{ name: "base-cpu-pydeps" }],
      services: [],
      ...over,
    }) as unknown as ResolvedFleet;

  before(async () => {
    const reg = http.createServer((req, res) => {
      res.statusCode = req.url === "/v2/" || req.url === `/v2/fleet/debian-bookworm/manifests/${digest}` ? 200 : 404;
      res.end();
    });
    await new Promise<void>((r) => reg.listen(0, "127.0.0.1", r));
    registry = `127.0.0.1:${(reg.address() as net.AddressInfo).port}`;
    const engine = http.createServer((req, res) => res.end(req.url === "/_ping" ? "OK" : ""));
    await new Promise<void>((r) => engine.listen(engineSocket, r));
    const buildkit = net.createServer((c) => c.end());
    await new Promise<void>((r) => buildkit.listen(buildkitSocket, r));
    servers.push(reg, engine, buildkit);
    savedDockerConfig = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = dir;
    fs.mkdirSync(path.join(dir, "buildx", "instances"), { recursive: true });
    fs.writeFileSync(path.join(dir, "buildx", "instances", "probe"), JSON.stringify({ Name: "probe", Driver: "remote", Nodes: [{ Name: "probe0", Endpoint: `unix://${buildkitSocket}` }] }));
  });

  after(() => {
    for (const s of servers) s.close();
    if (savedDockerConfig === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = savedDockerConfig;
  });

  it("finds nothing wrong when the engine, registry, base image and builder answer", async () => {
    assert.deepEqual(await serviceProblems(fleet()), []);
  });

  it("names a registry that does not answer", async () => {
    const problems = await serviceProblems(fleet({ registry: "127.0.0.1:9/fleet" }));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^the registry 127\.0\.0\.1:9 \(fleet:registry 127\.0\.0\.1:9\/fleet\) does not answer \(GET http:\/\/127\.0\.0\.1:9\/v2\/: .*ECONNREFUSED.*\); .*nothing was changed$/);
  });

  it("names a base image the registry does not have, and the command that makes it", async () => {
    const problems = await serviceProblems(fleet({ baseImage: `${registry}/fleet/debian-bookworm@sha256:${"cd".repeat(32)}` }));
    assert.match(problems.join("\n"), /the base image \S+ is not in the registry 127\.0\.0\.1:\d+; make it there with `npm run infra` .* or `npm run fleet -- base --stack t`/);
  });

  it("names an engine and a builder that do not answer", async () => {
    const problems = await serviceProblems(fleet({ dockerHost: `unix://${dir}/gone.sock`, builder: "missing" }));
    assert.match(problems.join("\n"), /the Docker engine unix:\/\/\S+gone\.sock does not answer/);
    assert.match(problems.join("\n"), /no buildx builder named "missing" \(fleet:builder\) is registered/);
  });

  it("does not ask for the builder when nothing is built", async () => {
    assert.deepEqual(await serviceProblems(fleet({ builder: "missing", families: [] })), []);
  });

  it("names a bind address this machine does not have", async () => {
    const problems = await serviceProblems(fleet({ bindAddress: "203.0.113.7" }));
    assert.match(problems.join("\n"), /fleet:bindAddress 203\.0\.113\.7 is not an address of this machine \(it has .*127\.0\.0\.1.*\); set the machine's LAN address in Pulumi\.t\.yaml/);
  });
});
