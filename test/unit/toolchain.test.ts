import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run } from "../../proc";
import { REPO, tempDir } from "../support/project";

/**
 * The toolchain's choice between an installed Pulumi CLI and the compiled one, and what env.sh
 * then sets. The CLIs here are stand-ins that only answer `pulumi version` (the only thing the
 * choice asks); nothing is compiled (FLEET_TOOLCHAIN=installed fails instead of compiling).
 */
function cliDir(version: string): string {
  const dir = tempDir("fleet-cli-");
  // `pulumi plugin install ...` is recorded in calls.log beside it.
  fs.writeFileSync(path.join(dir, "pulumi"), `#!/bin/sh\ncase "$1" in version) echo ${version} ;; plugin) echo "$@" >>"$(dirname "$0")/calls.log" ;; *) exit 1 ;; esac\n`, { mode: 0o755 });
  return dir;
}
// The caller's PATH without any pulumi on it (a shell that sourced env.sh has the compiled one),
// so that only the stand-in CLIs a test puts first are found.
const PATH_WITHOUT_PULUMI = (process.env.PATH ?? "").split(":").filter((d) => d && !fs.existsSync(path.join(d, "pulumi"))).join(":");
function toolchain(cache: string, pathDirs: string[], mode = "installed") {
  return run("bash", [path.join(REPO, "scripts", "toolchain.sh")], {
    env: { ...process.env, FLEET_CACHE: cache, FLEET_TOOLCHAIN: mode, PULUMI_HOME: path.join(cache, "pulumi-home"), PATH: [...pathDirs, PATH_WITHOUT_PULUMI].join(":") },
  });
}
function envAfterSourcing(cache: string): Record<string, string> {
  const keys = ["PATH", "PULUMI_BACKEND_URL", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "PULUMI_CONFIG_PASSPHRASE"];
  // PULUMI_HOME of its own: a `pulumi login` on this machine would otherwise choose the backend.
  const env: NodeJS.ProcessEnv = { HOME: os.homedir(), PATH: "/usr/bin:/bin", FLEET_CACHE: cache, PULUMI_HOME: path.join(cache, "pulumi-home") };
  const out = run("bash", ["-c", `source ${path.join(REPO, "scripts", "env.sh")}; ${keys.map((k) => `echo "${k}=\${${k}-<unset>}"`).join("; ")}`], { env });
  return Object.fromEntries(out.stdout.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

describe("toolchain: an installed Pulumi CLI", function () {
  this.timeout(60000);
  const wanted = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];

  it("a newer CLI than the SDK needs is used as it is: nothing compiled, env.sh forces no backend and no plugin policy", () => {
    const cache = tempDir("fleet-cache-");
    const dir = cliDir("v3.262.0");
    const r = toolchain(cache, [dir]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`using the installed pulumi 3\\.262\\.0 \\(${dir}/pulumi\\): at or above ${wanted.replace(/\./g, "\\.")}`));
    assert.equal(fs.readFileSync(path.join(cache, "toolchain.mode"), "utf8"), `installed ${dir}/pulumi\n`);
    const env = envAfterSourcing(cache);
    assert.equal(env.PULUMI_BACKEND_URL, "<unset>");
    assert.equal(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, "<unset>");
    assert.ok(env.PATH.endsWith(`:${cache}/bin`), env.PATH);
  });

  it("the policy pack's analyzer is registered with the installed CLI, in its plugin cache", () => {
    const cache = tempDir("fleet-cache-");
    const dir = cliDir("v3.262.0");
    const r = toolchain(cache, [dir]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const analyzer = path.join(cache, "toolchain", "policy-analyzer", "pulumi-analyzer-policy-fleet-node");
    assert.equal(fs.readFileSync(path.join(dir, "calls.log"), "utf8"), `plugin install analyzer policy-fleet-node 1.0.0 --file ${analyzer} --reinstall\n`);
    assert.match(fs.readFileSync(analyzer, "utf8"), /run-policy-pack/);
  });

  it("the exact version is accepted too; an older one is refused with both versions named", () => {
    const cache = tempDir("fleet-cache-");
    assert.equal(toolchain(cache, [cliDir(`v${wanted}`)]).status, 0);
    const old = cliDir("v3.200.0");
    const r = toolchain(cache, [old]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`FLEET_TOOLCHAIN=installed: no pulumi at or above ${wanted.replace(/\./g, "\\.")} on PATH outside ${cache} \\(${old}/pulumi is 3\\.200\\.0\\)`));
  });

  it("with the compiled toolchain, env.sh keeps its file backend and pinned plugins", () => {
    const cache = tempDir("fleet-cache-");
    fs.writeFileSync(path.join(cache, "toolchain.mode"), "compiled\n");
    const env = envAfterSourcing(cache);
    assert.equal(env.PULUMI_BACKEND_URL, `file://${cache}/state`);
    assert.equal(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, "true");
    assert.ok(env.PATH.startsWith(`${cache}/bin:`), env.PATH);
  });
});
