import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { must } from "../../proc";
import { contextPaths } from "../../source/dockerfile";
import { headCommit } from "../../source/git";
import { inputsDigest, inputsTag } from "../../source/inputs";
import { contextFilesOf, readDockerignore, stageContext, stageDockerfile } from "../../source/stage";
import { tempDir } from "../support/project";

const tmp = () => tempDir("fleet-src-");
function tree(files: Record<string, string>, mode = 0o644): string {
  const dir = tmp();
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
    fs.chmodSync(path.join(dir, rel), mode);
  }
  return dir;
}

describe("build contexts", () => {
  it("stage the same content to the same place whatever the checkout's file modes", () => {
    const root = tmp();
    const a = tree({ "app/main.py": "print(1)\n", "requirements.lock": "x==1\n" }, 0o644);
    const b = tree({ "app/main.py": "print(1)\n", "requirements.lock": "x==1\n" }, 0o664);
    fs.chmodSync(path.join(b, "app"), 0o775);
    const sa = stageContext(contextFilesOf(a), root);
    const sb = stageContext(contextFilesOf(b), root);
    assert.equal(sa, sb);
    assert.equal(fs.statSync(path.join(sa, "app/main.py")).mode & 0o777, 0o644);
    assert.equal(fs.statSync(path.join(sa, "app")).mode & 0o777, 0o755);
  });

  it("stage different content to a different place", () => {
    const root = tmp();
    const a = stageContext(contextFilesOf(tree({ "app/main.py": "print(1)\n" })), root);
    const b = stageContext(contextFilesOf(tree({ "app/main.py": "print(2)\n" })), root);
    assert.notEqual(a, b);
  });

  it("stage a Dockerfile where its text alone names it: two checkouts agree, an edit moves it", () => {
    const root = tmp();
    const one = stageDockerfile(path.join(tree({ "a/service.Dockerfile": "FROM x\n" }), "a/service.Dockerfile"), root);
    const two = stageDockerfile(path.join(tree({ "b/other.Dockerfile": "FROM x\n" }), "b/other.Dockerfile"), root);
    const edited = stageDockerfile(path.join(tree({ "a/service.Dockerfile": "FROM y\n" }), "a/service.Dockerfile"), root);
    assert.equal(one, two);
    assert.notEqual(one, edited);
    assert.equal(fs.readFileSync(edited, "utf8"), "FROM y\n");
  });

  it("leave out what .dockerignore excludes, with allow-lists and the last match winning", () => {
    const dir = tree({ ".dockerignore": "*\n!app/\n!requirements.lock\n**/__pycache__\n", "app/a.py": "", "app/__pycache__/a.pyc": "", "notes.md": "", "requirements.lock": "" });
    assert.deepEqual(contextFilesOf(dir).map((f) => f.rel).sort(), ["app/a.py", "requirements.lock"]);
    const ignored = readDockerignore(path.join(dir, ".dockerignore"));
    assert.equal(ignored("models/x.bin"), true);
  });

  it("find what a Dockerfile copies from its context, with build args expanded", () => {
    const df = "ARG BASE\nFROM ${BASE} AS b\nARG LOCK=requirements/x.lock\nCOPY ${LOCK} /tmp/r.lock\nCOPY --from=b /opt /opt\nCOPY healthcheck.py a.py /x/\nRUN --mount=type=bind,source=tools,target=/t true\n";
    assert.deepEqual(contextPaths(df, { LOCK: "requirements/y.cpu.lock" }).sort(), ["a.py", "healthcheck.py", "requirements/y.cpu.lock", "tools"]);
    assert.deepEqual(contextPaths(df, {}).sort(), ["a.py", "healthcheck.py", "requirements/x.lock", "tools"]);
  });
});

describe("inputs digests", () => {
  const DOCKERFILE = "FROM x\nCOPY app/ /app/\n";
  const digestOf = (dir: string, dockerfile = DOCKERFILE) => inputsDigest(dockerfile, contextFilesOf(dir));

  it("depend on content, paths and executable bits only: not on modes a umask narrows, times or where the checkout is", () => {
    const a = tree({ "app/main.py": "print(1)\n", "requirements.lock": "x==1\n" }, 0o644);
    const b = tree({ "app/main.py": "print(1)\n", "requirements.lock": "x==1\n" }, 0o600);
    fs.utimesSync(path.join(b, "app/main.py"), new Date("2031-01-01"), new Date("2031-01-01"));
    assert.match(digestOf(a), /^[0-9a-f]{64}$/);
    assert.equal(digestOf(a), digestOf(b));
    const changes: Record<string, string> = {
      content: digestOf(tree({ "app/main.py": "print(2)\n", "requirements.lock": "x==1\n" })),
      path: digestOf(tree({ "app/other.py": "print(1)\n", "requirements.lock": "x==1\n" })),
      "executable bit": digestOf(tree({ "app/main.py": "print(1)\n", "requirements.lock": "x==1\n" }, 0o755)),
      Dockerfile: digestOf(a, `${DOCKERFILE}USER 1\n`),
    };
    for (const [what, d] of Object.entries(changes)) assert.notEqual(d, digestOf(a), what);
  });

  it("name an image `src-` and their first 12 hex digits", () => {
    assert.equal(inputsTag("0123456789abcdef".repeat(4)), "src-0123456789ab");
  });
});

describe("the checkout's commit", () => {
  it("is HEAD in git and `unknown` outside it", () => {
    const dir = tree({ "a.txt": "1\n" });
    const git = (...args: string[]) => must("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: dir }).stdout.trim();
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "one");
    assert.equal(headCommit(dir), git("rev-parse", "HEAD"));
    assert.equal(headCommit(tmp()), "unknown");
  });
});
