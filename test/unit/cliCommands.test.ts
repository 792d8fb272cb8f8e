import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { CliError, parseOptions } from "../../cli/args";
import { defineCommand } from "../../cli/command";
import { run } from "../../proc";
import { fleet, fleetCommand } from "../support/cli";
import { tempDir } from "../support/project";

const ROOT = path.resolve(__dirname, "..", "..");
const PINNED = `registry.home.arpa:5000/fleet/debian-bookworm@sha256:${"d".repeat(64)}`;


describe("fleet commands", () => {
  let tmp: string;
  /** FLEET_CACHE for the tests: its bin/ is first on the PATH fleetEnv() gives what a command spawns. */
  let cache: string;
  const saved: Record<string, string | undefined> = {};

  before(() => {
    tmp = tempDir("fleet-cli-");
    cache = path.join(tmp, "cache");
    fs.mkdirSync(path.join(cache, "bin"), { recursive: true });
    // No command here may reach the user's Pulumi home, backend or cache.
    const env = { FLEET_CACHE: cache, PULUMI_HOME: path.join(tmp, "pulumi-home"), PULUMI_BACKEND_URL: `file://${tmp}/state` };
    for (const [key, value] of Object.entries(env)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
  });

  after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Puts a shell script `name` in FLEET_CACHE/bin: it logs its directory, FLEET_BASE_REBUILD, PULUMI_BACKEND_URL and arguments, then runs `then`. */
  function standIn(name: string, then: string): void {
    fs.writeFileSync(path.join(cache, "bin", name), `#!/bin/sh\nprintf '%s\\n' "$(pwd -P)|$FLEET_BASE_REBUILD|$PULUMI_BACKEND_URL|$*" >> '${tmp}/${name}.log'\n${then}\n`, { mode: 0o755 });
  }

  /** What the stand-in `name` logged since the last call, a line per run. */
  function ran(name: string): string[] {
    const log = path.join(tmp, `${name}.log`);
    if (!fs.existsSync(log)) return [];
    const lines = fs.readFileSync(log, "utf8").split("\n").filter(Boolean);
    fs.rmSync(log);
    return lines;
  }

  /** A Pulumi project in the temp dir with these stack files (`home` for Pulumi.home.yaml). */
  function projectWith(stacks: Readonly<Record<string, string>>): string {
    const dir = fs.mkdtempSync(path.join(tmp, "project-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: fleet\nruntime: nodejs\n");
    for (const [stack, text] of Object.entries(stacks)) fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    return dir;
  }

  afterEach(() => {
    for (const name of ["bash", "pulumi"]) {
      fs.rmSync(path.join(cache, "bin", name), { force: true });
      fs.rmSync(path.join(tmp, `${name}.log`), { force: true });
    }
  });

  describe("base", () => {
    const HOME = [
      "# home: the household's main machine",
      "config:",
      "  fleet:machine: mainpc",
      "  # pushed here by scripts/home-setup.sh",
      "  fleet:registry: registry.home.arpa:5000/fleet",
      "  fleet:baseImage: registry.home.arpa:5000/fleet/debian-bookworm@sha256:" + "0".repeat(64),
      "",
    ].join("\n");

    it("refuses a --from not pinned by digest, naming the flag, the form it needs and the value, before reading any stack", async () => {
      standIn("bash", `echo '${PINNED}'`);
      const { code, out, err } = await fleet("base", "--stack", "no-such-stack", "--from", "debian:bookworm");
      assert.equal(code, 2);
      assert.equal(out, "");
      assert.equal(err, 'fleet: base: --from must be an image pinned by digest (host[:port]/repo@sha256:<64 hex>); got "debian:bookworm"');
      assert.deepEqual(ran("bash"), []);
    });

    it("refuses an unknown stack, naming the stacks the project has", async () => {
      const dir = projectWith({ home: HOME, pc2: HOME });
      const { code, err } = await fleet("base", "--stack", "nope", "--project", dir);
      assert.equal(code, 2);
      assert.equal(err, 'fleet: base: Pulumi.nope.yaml: no such stack file; known stacks: home, pc2; got "nope"');
    });

    it("refuses a stack without fleet:registry, naming its file", async () => {
      standIn("bash", `echo '${PINNED}'`);
      const dir = projectWith({ bare: "config:\n  fleet:machine: local\n" });
      const { code, err } = await fleet("base", "--stack", "bare", "--project", dir);
      assert.equal(code, 2);
      assert.equal(err, "fleet: base: Pulumi.bare.yaml: fleet:registry is not set; the base goes to that registry");
      assert.deepEqual(ran("bash"), []);
    });

    it("pins the reference scripts/base-image.sh printed last in the stack file's fleet:baseImage, keeping its comments", async () => {
      standIn("bash", `echo 'pushing...'; echo '${PINNED}'`);
      const dir = projectWith({ home: HOME });
      const { code, out, err } = await fleet("base", "--stack", "home", "--project", dir);
      assert.equal(err, "");
      assert.equal(code, 0);
      assert.equal(out, `stack home: fleet:baseImage set to ${PINNED} in Pulumi.home.yaml`);
      assert.deepEqual(ran("bash").map((l) => l.split("|").slice(1).join("|")), [`|file://${tmp}/state|${ROOT}/scripts/base-image.sh registry.home.arpa:5000/fleet/debian-bookworm base`]);
      const text = fs.readFileSync(path.join(dir, "Pulumi.home.yaml"), "utf8");
      assert.deepEqual(YAML.parse(text), { config: { "fleet:machine": "mainpc", "fleet:registry": "registry.home.arpa:5000/fleet", "fleet:baseImage": PINNED } });
      assert.match(text, /^# home: the household's main machine$/m);
      assert.match(text, /^ {2}# pushed here by scripts\/home-setup\.sh$/m);
    });

    it("copies --from, makes it again with --rebuild, and writes the file fleet:baseImageFile names instead of the stack file", async () => {
      standIn("bash", `echo '${PINNED}'`);
      const stack = "config:\n  fleet:registry: registry.home.arpa:5000/fleet\n  fleet:baseImageFile: .fleet/base-image.ref\n";
      const dir = projectWith({ home: stack });
      const from = `127.0.0.1:5000/fleet/debian-bookworm@sha256:${"e".repeat(64)}`;
      const { code, out } = await fleet("base", "--stack", "home", "--project", dir, "--from", from, "--rebuild");
      assert.equal(code, 0);
      assert.equal(out, `stack home: ${PINNED} written to .fleet/base-image.ref (fleet:baseImageFile)`);
      assert.deepEqual(ran("bash").map((l) => l.split("|").slice(1).join("|")), [`1|file://${tmp}/state|${ROOT}/scripts/base-image.sh registry.home.arpa:5000/fleet/debian-bookworm base ${from}`]);
      assert.equal(fs.readFileSync(path.join(dir, ".fleet", "base-image.ref"), "utf8"), `${PINNED}\n`);
      assert.equal(fs.readFileSync(path.join(dir, "Pulumi.home.yaml"), "utf8"), stack);
    });

    it("pins nothing when the script fails or prints no reference pinned by digest", async () => {
      const dir = projectWith({ home: HOME });
      for (const [script, status] of [["exit 1", 1], ["echo 'registry.home.arpa:5000/fleet/debian-bookworm:base'", 0]] as const) {
        standIn("bash", script);
        const { code, err } = await fleet("base", "--stack", "home", "--project", dir);
        assert.equal(code, 2);
        assert.equal(err, `fleet: base: no base image for stack home in registry.home.arpa:5000/fleet/debian-bookworm (scripts/base-image.sh exited ${status}; its messages are above)`);
        assert.equal(fs.readFileSync(path.join(dir, "Pulumi.home.yaml"), "utf8"), HOME);
      }
    });
  });

  describe("sbom", () => {
    // test/unit/supply.test.ts covers a missing --service and an unknown option.
    const services = { FamilyWeb: { image: `registry.home.arpa:5000/fleet/family-web@sha256:${"a".repeat(64)}` }, CentralErrorBus: { image: `registry.home.arpa:5000/fleet/central-error-bus@sha256:${"b".repeat(64)}` } };

    it("reads the stack's services from pulumi with fleet's environment, and names them when the one asked for is not there", async () => {
      standIn("pulumi", `echo '${JSON.stringify(services)}'`);
      const { code, out, err } = await fleet("sbom", "--stack", "home", "--service", "FamilyWbe");
      assert.equal(code, 2);
      assert.equal(out, "");
      assert.equal(err, 'fleet: sbom: stack home runs no service "FamilyWbe"; it runs CentralErrorBus, FamilyWeb');
      assert.deepEqual(ran("pulumi"), [`${fs.realpathSync(ROOT)}||file://${tmp}/state|stack output services --json --stack home --non-interactive`]);
    });

    it("says in one line what pulumi said when it cannot read the stack", async () => {
      standIn("pulumi", `echo 'Logging in...'; echo "error: no stack named 'nope' found" >&2; exit 255`);
      const { code, err } = await fleet("sbom", "--stack", "nope", "--service", "FamilyWeb");
      assert.equal(code, 2);
      assert.equal(err, "fleet: sbom: pulumi stack output services --json --stack nope failed (exit 255): error: no stack named 'nope' found");
    });

    it("says how to get the Pulumi CLI when there is none", async () => {
      const saved = process.env.PATH;
      process.env.PATH = path.join(tmp, "empty");
      try {
        const { code, err } = await fleet("sbom", "--stack", "home", "--service", "FamilyWeb");
        assert.equal(code, 2);
        assert.match(err, /^fleet: sbom: could not run pulumi \(spawnSync pulumi ENOENT\); run `npm run toolchain`, or install the Pulumi CLI$/);
      } finally {
        if (saved === undefined) delete process.env.PATH;
        else process.env.PATH = saved;
      }
    });
  });

  describe("options (cli/args.ts, cli/command.ts)", () => {
    // test/unit/cliHelp.test.ts covers unknown options, a missing or valueless --stack, a flag
    // given a value, an option given twice, stray arguments, -- and --help through `main`.
    const OPTIONS = {
      stack: { value: "S", required: true, description: "a stack" },
      service: { value: "NAME", repeatable: true, description: "a service" },
      out: { value: "FILE", description: "a file" },
      yes: { description: "go" },
    } as const;

    it("gives an optional value left out as undefined, a repeatable one left out as [], and reads --name=value as --name value", () => {
      assert.deepEqual(parseOptions("probe", OPTIONS, ["--stack", "s"]), { stack: "s", service: [], out: undefined, yes: false });
      assert.deepEqual(parseOptions("probe", OPTIONS, ["--out=o.json", "--stack=s", "--yes"]), { stack: "s", service: [], out: "o.json", yes: true });
    });

    it("takes a value that starts with - only after =, and says the option needs a value otherwise", () => {
      assert.equal(parseOptions("probe", OPTIONS, ["--stack", "s", "--out=-x"]).out, "-x");
      assert.throws(() => parseOptions("probe", OPTIONS, ["--stack", "s", "--out", "-x"]), (e: Error) => e instanceof CliError && e.message === "probe: --out needs a value");
    });

    it("names an unknown short option as it was typed, and says `none` is allowed for a command without options", () => {
      assert.throws(() => parseOptions("probe", OPTIONS, ["--stack", "s", "-y"]), (e: Error) => e instanceof CliError && e.message === 'probe: unknown option "-y"; allowed: --stack VALUE, --service VALUE (repeatable), --out VALUE, --yes');
      assert.throws(() => parseOptions("probe", {}, ["--yes"]), (e: Error) => e instanceof CliError && e.message === 'probe: unknown option "--yes"; allowed: none');
    });

    it("never runs a command whose arguments are wrong, and rejects with a CliError (which main prints as one line, exit 2)", async () => {
      let runs = 0;
      const command = defineCommand({
        name: "probe",
        summary: "counts its runs",
        options: OPTIONS,
        async run() {
          runs++;
          return 0;
        },
      });
      for (const argv of [[], ["--stack", "s", "--bogus"], ["--stack", "s", "--yes=no"], ["--stack", "s", "x"], ["--stack", "s", "--out", "a", "--out", "b"]]) {
        await assert.rejects(command.run(argv), (e: Error) => e instanceof CliError && e.message.startsWith("probe: ") && !e.message.includes("\n"), JSON.stringify(argv));
      }
      assert.equal(runs, 0);
      assert.equal(await command.run(["--stack", "s"]), 0);
      assert.equal(runs, 1);
    });

    it("--help shows the synopsis from the declarations: required bare, optional in brackets, repeatable with ..., -- ARGS only for a command that passes it on", async () => {
      const spec = { name: "probe", summary: "records what it is given", details: "Reads nothing.", options: OPTIONS, run: async () => 0 };
      assert.equal(
        defineCommand({ ...spec, passThrough: "passed on to pulumi up" }).usage(),
        [
          "usage: npm run fleet -- probe --stack S [--service NAME ...] [--out FILE] [--yes] [-- ARGS...]",
          "records what it is given",
          "Reads nothing.",
          "options:",
          "  --stack S       a stack (required)",
          "  --service NAME  a service (repeatable)",
          "  --out FILE      a file",
          "  --yes           go",
          "  -- ARGS         passed on to pulumi up",
          "  -h, --help      print this usage",
        ].join("\n"),
      );
      const usage = defineCommand(spec).usage();
      assert.match(usage, /^usage: npm run fleet -- probe --stack S \[--service NAME \.\.\.\] \[--out FILE\] \[--yes\]\n/);
      assert.doesNotMatch(usage, /-- ARGS/);
    });
  });

  describe("cli/main.ts run as a program", function () {
    this.timeout(60000);
    /** `npm run fleet -- ARGV` in the checkout, as the README runs it. */
    const npmFleet = (...argv: string[]) => run(...fleetCommand(...argv), { cwd: ROOT });

    it("base --help prints the usage on stdout and exits 0", () => {
      const r = npmFleet("base", "--help");
      assert.equal(r.stderr, "");
      assert.equal(r.status, 0);
      assert.match(r.stdout, /^usage: npm run fleet -- base --stack S \[--from REF\] \[--rebuild\] \[--project DIR\]\n/);
      assert.match(r.stdout, /^ {2}--from REF +copy this image/m);
    });

    it("a bad --from is one line on stderr naming the flag, exit 2; no command at all prints the usage, exit 2", () => {
      // A stack no project has: were the check gone, this would stop at the stack, never run scripts/base-image.sh.
      const bad = npmFleet("base", "--stack", "no-such-stack", "--from", "debian:bookworm");
      assert.equal(bad.status, 2);
      assert.equal(bad.stdout, "");
      assert.equal(bad.stderr, 'fleet: base: --from must be an image pinned by digest (host[:port]/repo@sha256:<64 hex>); got "debian:bookworm"\n');
      const none = npmFleet();
      assert.equal(none.status, 2);
      assert.match(none.stdout, /^usage: npm run fleet -- <command> \[options\]\ncommands:\n {2}base /);
    });
  });
});
