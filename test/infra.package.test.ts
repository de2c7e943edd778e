// `npm run package` builds the zip `azd deploy` sends (azure.yaml: prepackage hook, dist: .deploy/app, remoteBuild
// off): only what runs in Azure, under a size budget, and complete enough that every function module loads from it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, relative, sep } from "node:path";
import { inflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_BUDGET_BYTES, type PackageResult, buildPackage, entryPoints, importsOf, packageNameOf } from "../cli/packageApp.js";
import { REPO_ROOT } from "./infraArm.js";

interface ZipEntry {
  name: string;
  data: Buffer;
}

/** Reads a ZIP's central directory and inflates every entry (what Azure does with the package). */
function readZip(path: string): ZipEntry[] {
  const zip = readFileSync(path);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(eocd, "end of central directory").toBeGreaterThan(0);
  let count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff) {
    const z64 = Number(zip.readBigUInt64LE(eocd - 20 + 8));
    count = Number(zip.readBigUInt64LE(z64 + 32));
    at = Number(zip.readBigUInt64LE(z64 + 48));
  }
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    let local = zip.readUInt32LE(at + 42);
    if (local === 0xffffffff) local = Number(zip.readBigUInt64LE(at + 46 + nameLength + 4));
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataAt, dataAt + compressed);
    entries.push({ name, data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function filesIn(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<{ isFile(): boolean; parentPath: string; name: string }>)
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}

const rootPackage = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  main: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> };

describe("npm run package: the deployment zip", () => {
  let out: string;
  let result: PackageResult;
  let entries: ZipEntry[];
  let names: string[];

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "alertcap-package-"));
    result = buildPackage(REPO_ROOT, out);
    entries = readZip(result.zipPath);
    names = entries.map((e) => e.name);
  }, 300_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it(`stays under its budget (${PACKAGE_BUDGET_BYTES / 1024 / 1024} MB zipped; all of node_modules was 686 MB)`, () => {
    expect(result.zipBytes).toBeLessThan(PACKAGE_BUDGET_BYTES);
    expect(readFileSync(result.zipPath).length).toBe(result.zipBytes);
  });

  it("holds exactly the files of the folder azd zips, byte for byte", () => {
    expect([...names].sort()).toEqual(filesIn(result.stagingDir));
    for (const e of entries.filter((_, i) => i % 97 === 0 || e_isKey(entries[i]!.name))) {
      expect(e.data.equals(readFileSync(join(result.stagingDir, ...e.name.split("/")))), e.name).toBe(true);
    }
    // azd leaves these out of any Function App zip; none may be in the folder, or the two would differ.
    expect(names.filter((n) => /(^|\/)(\.funcignore|local\.settings\.json)$/.test(n) || n.startsWith(".azure/"))).toEqual([]);
  });

  it("holds no dev dependency, no tests, no local stack, no bench, CLI or sources", () => {
    const packageDirs = new Set(
      names.filter((n) => n.startsWith("node_modules/")).map((n) => {
        const parts = n.split("/");
        const at = parts.lastIndexOf("node_modules", parts.length - 2);
        return parts.slice(0, at + (parts[at + 1]!.startsWith("@") ? 3 : 2)).join("/");
      }),
    );
    for (const dev of Object.keys(rootPackage.devDependencies)) expect(packageDirs.has(`node_modules/${dev}`), `${dev} (a devDependency) is in the zip`).toBe(false);
    expect([...packageDirs].filter((dir) => lock.packages[dir] === undefined || lock.packages[dir]!.dev === true)).toEqual([]);
    const appFiles = names.filter((n) => !n.startsWith("node_modules/"));
    expect(appFiles.filter((n) => /^(dist\/)?(test|local|bench|cli|bin|infra|\.deploy)\//.test(n))).toEqual([]);
    expect(appFiles.filter((n) => /\.(ts|map)$/.test(n) || n.startsWith("dist/exp-"))).toEqual([]);
    expect(names.filter((n) => /\.(map|d\.ts)$/.test(n))).toEqual([]);
  });

  it("package.json keeps what the Functions host reads and drops the rest", () => {
    const pkg = JSON.parse(entries.find((e) => e.name === "package.json")!.data.toString("utf8")) as Record<string, unknown>;
    expect(pkg.main).toBe(rootPackage.main);
    expect(pkg.type).toBe("module");
    expect(pkg.dependencies).toEqual(rootPackage.dependencies);
    expect(Object.keys(pkg).filter((k) => ["devDependencies", "scripts", "bin", "allowScripts"].includes(k))).toEqual([]);
    expect(names).toContain("host.json");
  });

  it("every entry point package.json main names is there, and every import it makes resolves inside the zip", () => {
    const mains = entryPoints(REPO_ROOT, rootPackage.main).map((p) => relative(REPO_ROOT, p).split(sep).join("/"));
    expect(mains.length).toBeGreaterThan(3);
    for (const m of mains) expect(names, m).toContain(m);
    const present = new Set(names);
    for (const e of entries.filter((e) => e.name.startsWith("dist/"))) {
      for (const spec of importsOf(e.data.toString("utf8"))) {
        if (spec.startsWith(".")) expect(present.has(posix.join(posix.dirname(e.name), spec)), `${e.name} imports ${spec}`).toBe(true);
        else if (!spec.startsWith("node:")) expect(present.has(`node_modules/${packageNameOf(spec)}/package.json`), `${e.name} imports ${spec}`).toBe(true);
      }
    }
  });

  it("every function module loads from the staged folder alone (no file the runtime needs was trimmed)", () => {
    const mains = entryPoints(result.stagingDir, rootPackage.main).map((p) => relative(result.stagingDir, p).split(sep).join("/"));
    const script = `for (const m of ${JSON.stringify(mains)}) await import("./" + m); console.log("loaded " + ${mains.length});`;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: result.stagingDir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(output).toContain(`loaded ${mains.length}`);
  });
});

function e_isKey(name: string): boolean {
  return name === "package.json" || name === "host.json" || name.startsWith("dist/functions/");
}

describe("azure.yaml and .funcignore send that zip", () => {
  const yaml = readFileSync(join(REPO_ROOT, "azure.yaml"), "utf8");
  const service = yaml.slice(yaml.indexOf("\n  api:"));

  it("azd zips .deploy/app, built by npm run package before packaging, without a remote build", () => {
    expect(service).toMatch(/\n {4}dist: \.deploy\/app\n/);
    expect(service).toMatch(/\n {4}remoteBuild: false\n/);
    const hook = service.slice(service.indexOf("prepackage:"));
    expect(hook).toMatch(/posix:\n\s+shell: sh\n\s+run: npm run --silent package/);
    expect(hook).toMatch(/windows:\n\s+shell: pwsh\n\s+run: npm run --silent package/);
  });

  it("the project's .funcignore keeps node_modules (azd refuses remoteBuild: false when it is excluded)", () => {
    const rules = readFileSync(join(REPO_ROOT, ".funcignore"), "utf8").split("\n").map((l) => l.trim());
    expect(rules.filter((r) => /^\/?node_modules\/?$/.test(r))).toEqual([]);
  });
});
