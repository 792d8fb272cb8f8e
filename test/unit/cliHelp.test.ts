import { strict as assert } from "assert";
import { COMMANDS } from "../../cli/main";
import { fleet } from "../support/cli";


const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("fleet command line", () => {
  it("--help lists every command with its one-line summary, exit 0", async () => {
    const { code, out } = await fleet("--help");
    assert.equal(code, 0);
    assert.match(out, /^usage: npm run fleet -- <command> \[options\]$/m);
    for (const name of Object.keys(COMMANDS)) {
      const command = await COMMANDS[name]();
      assert.equal(command.name, name);
      assert.match(out, new RegExp(`^ {2}${name} +${escape(command.summary)}$`, "m"));
    }
  });

  it("rejects an unknown command in one line, exit 2", async () => {
    const { code, err } = await fleet("rolback");
    assert.equal(code, 2);
    assert.equal(err, 'fleet: unknown command "rolback"; known commands: base, history, recover, release, review, rollback, sbom');
  });

  for (const name of Object.keys(COMMANDS)) {
    describe(name, () => {
      it("--help and -h print its usage and every declared option on stdout, exit 0, without reading a stack", async () => {
        const command = await COMMANDS[name]();
        for (const flag of ["--help", "-h"]) {
          const { code, out, err } = await fleet(name, flag);
          assert.equal(code, 0);
          assert.equal(err, "");
          assert.equal(out, command.usage());
          assert.match(out, new RegExp(`^usage: npm run fleet -- ${name} --stack S`));
          for (const [option, spec] of Object.entries(command.options)) {
            assert.match(out, new RegExp(`^ {2}--${option}${spec.value ? ` ${spec.value}` : ""} +${escape(spec.description)}`, "m"));
          }
        }
      });

      it("rejects an unknown option in one line naming what is allowed, exit 2", async () => {
        const { code, out, err } = await fleet(name, "--stack", "local", "--bogus");
        assert.equal(code, 2);
        assert.equal(out, "");
        assert.match(err, new RegExp(`^fleet: ${name}: unknown option "--bogus"; allowed: --stack VALUE(, --[a-z-]+( VALUE)?( \\(repeatable\\))?)*$`));
      });

      it("rejects a missing --stack in one line saying what it is, exit 2", async () => {
        const { code, err } = await fleet(name);
        assert.equal(code, 2);
        assert.match(err, new RegExp(`^fleet: ${name}: --stack is required \\([^)\\n]+\\)$`));
      });

      it("rejects --stack without a value in one line, exit 2", async () => {
        for (const argv of [["--stack"], ["--stack", "--help2"]]) {
          const { code, err } = await fleet(name, ...argv);
          assert.equal(code, 2);
          assert.equal(err, `fleet: ${name}: --stack needs a value`);
        }
      });
    });
  }

  it("names each declared option in the allowed list, repeatable ones marked", async () => {
    const { err } = await fleet("rollback", "--servce", "a");
    assert.equal(err, 'fleet: rollback: unknown option "--servce"; allowed: --stack VALUE, --to VALUE, --service VALUE (repeatable), --config, --yes');
  });

  it("rejects a second required option left out, a flag given a value, a single option given twice and a stray argument", async () => {
    assert.equal((await fleet("rollback", "--stack", "local")).err, "fleet: rollback: --to is required (an update number from `fleet history`)");
    assert.equal((await fleet("release", "--stack", "local", "--yes=1")).err, 'fleet: release: --yes takes no value; got "--yes=1"');
    assert.equal((await fleet("history", "--stack", "a", "--stack=b")).err, "fleet: history: --stack was given 2 times; give it once");
    assert.equal((await fleet("history", "--stack", "a", "b")).err, 'fleet: history: unexpected argument "b"; allowed: --stack VALUE, --json');
    assert.equal((await fleet("history", "--stack", "a", "--")).err, 'fleet: history: unexpected argument "--" (history passes nothing on); allowed: --stack VALUE, --json');
  });

  it("a --help before -- wins over the other options, even wrong ones", async () => {
    const { code, out, err } = await fleet("rollback", "--servce", "a", "--help", "--", "--json");
    assert.equal(code, 0);
    assert.equal(err, "");
    assert.match(out, /^usage: npm run fleet -- rollback /);
  });

  it("a --help after -- is pulumi up's, not the command's", async () => {
    const { code, err } = await fleet("release", "--", "--help");
    assert.equal(code, 2);
    assert.equal(err, "fleet: release: --stack is required (the Pulumi stack, like local)");
  });

  it("passes what follows -- on, unparsed, to the command", async () => {
    const { defineCommand } = await import("../../cli/command");
    let got: unknown;
    const command = defineCommand({
      name: "probe",
      summary: "records what it is given",
      passThrough: "passed on",
      options: { stack: { value: "S", required: true, description: "a stack" }, service: { value: "NAME", repeatable: true, description: "a service" }, yes: { description: "go" } },
      async run(opts, passed) {
        got = { opts, passed };
        return 0;
      },
    });
    assert.equal(await command.run(["--stack=s", "--service", "a", "--service", "b", "--", "--json", "--skip-preview", "x"]), 0);
    assert.deepEqual(got, { opts: { stack: "s", service: ["a", "b"], yes: false }, passed: ["--json", "--skip-preview", "x"] });
  });
});
