// `npm run package`: the Function App's deployment package, and nothing else. It stages .deploy/app (the folder
// azure.yaml's `dist` points azd at; azd zips it as is) and writes the same files to .deploy/alertcap.zip.
//
// What goes in: host.json; a package.json with only what the Functions host reads (type, main, dependencies); the
// compiled modules the entry points (package.json "main") import, followed file by file, so tests, the local stack,
// bench/, the CLI and bin/ stay out; and the production dependency tree from package-lock.json (entries not marked
// "dev"), copied from node_modules without what Node never loads (source maps, TypeScript sources and declarations,
// docs). No network: the tree is the one `npm ci` installed and the tests ran against.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, posix, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { writeZip } from "./zipArchive.js";

/** The zip azd sends must stay under this (the issue asks for tens of MB; it was 686 MB with all of node_modules). */
export const PACKAGE_BUDGET_BYTES = 40 * 1024 * 1024;

export const DEPLOY_DIR = ".deploy";
export const STAGING_DIR = join(DEPLOY_DIR, "app");
export const ZIP_PATH = join(DEPLOY_DIR, "alertcap.zip");

/** Files in a dependency that Node never loads at run time. */
const NOT_RUNTIME = /\.(map|[cm]?ts|tsx|md|markdown|tsbuildinfo)$/i;
const NOT_RUNTIME_DIRS = new Set([".github", "__tests__", ".vscode"]);

interface PackageJson {
  name: string;
  version: string;
  type?: string;
  main: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
}
interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
}

export interface StagedFile {
  /** Path inside the package, forward slashes. */
  name: string;
  source: string;
}

/** The entry points package.json "main" names: a glob of the form dist/{a,b}/*.js or a plain path. */
export function entryPoints(root: string, main: string): string[] {
  const m = /^(.*)\{([^}]+)\}\/\*\.js$/.exec(main);
  const dirs = m ? m[2]!.split(",").map((d) => `${m[1]!}${d}`) : null;
  if (!dirs) return [join(root, main)];
  return dirs.flatMap((d) => {
    const dir = join(root, d);
    if (!existsSync(dir)) throw new Error(`package.json main: ${d} does not exist (run the build first)`);
    return readdirSync(dir).filter((f) => f.endsWith(".js")).map((f) => join(dir, f)).sort();
  });
}

// Static imports and re-exports are statements of their own in tsc's output (`import … from "x";` at a line's start);
// anchoring them there keeps a sentence such as "…from '${host}'" inside a template literal from reading as one.
const STATIC_IMPORT = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"'\n]+)["']|^\s*import\s*["']([^"'\n]+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\s*\(\s*["']([^"'\n]+)["']\s*\)/g;

/** Every specifier a compiled ES module imports statically or with a literal dynamic import(). */
export function importsOf(source: string): string[] {
  return [...source.matchAll(STATIC_IMPORT), ...source.matchAll(DYNAMIC_IMPORT)].map((m) => (m[1] ?? m[2])!);
}

const isBuiltin = (spec: string): boolean => spec.startsWith("node:") || builtinModules.includes(spec.split("/")[0]!);
export const packageNameOf = (spec: string): string => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);

/** The compiled modules reachable from the entry points, and the packages they import by name. */
export function moduleClosure(entries: readonly string[]): { files: string[]; packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new Error(`${file} is imported but was not built`);
    seen.add(file);
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec));
      else if (!isBuiltin(spec)) packages.add(packageNameOf(spec));
    }
  }
  return { files: [...seen].sort(), packages };
}

/** The installed folders of the production dependency tree (package-lock.json entries not marked dev). */
export function productionDependencyDirs(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const dirs: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "" || entry.dev || entry.link) continue;
    if (!existsSync(join(root, path))) {
      if (entry.optional) continue; // another platform's optional binary
      throw new Error(`${path} is a production dependency but is not installed: run npm ci`);
    }
    dirs.push(path);
  }
  return dirs.sort();
}

function filesUnder(root: string, dir: string, skipNested: boolean): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      const rel = posix.join(d, e.name);
      if (e.isDirectory()) {
        // Nested node_modules are production entries of their own in the lock file (or dev ones to leave out).
        if (skipNested && e.name === "node_modules") continue;
        if (NOT_RUNTIME_DIRS.has(e.name)) continue;
        walk(rel);
      } else if (e.isFile() && !NOT_RUNTIME.test(e.name)) out.push(rel);
    }
  };
  walk(dir);
  return out;
}

/** The package.json the Functions host reads: "main" finds the functions, "type" makes dist/ ES modules. */
export function deployedPackageJson(pkg: PackageJson): PackageJson {
  return {
    name: pkg.name,
    version: pkg.version,
    ...(pkg.type ? { type: pkg.type } : {}),
    main: pkg.main,
    ...(pkg.dependencies ? { dependencies: pkg.dependencies } : {}),
  };
}

/** Everything the package holds (except package.json, written from deployedPackageJson), in archive order. */
export function planPackage(root: string): { files: StagedFile[]; packageJson: PackageJson } {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as PackageJson;
  const { files: modules, packages } = moduleClosure(entryPoints(root, pkg.main));
  const declared = new Set(Object.keys(pkg.dependencies ?? {}));
  const undeclared = [...packages].filter((p) => !declared.has(p));
  if (undeclared.length > 0) throw new Error(`the app imports ${undeclared.join(", ")}, which package.json lists only as devDependencies (or not at all)`);
  const toName = (abs: string): string => relative(root, abs).split(sep).join("/");
  const files: StagedFile[] = [{ name: "host.json", source: join(root, "host.json") }];
  for (const m of modules) files.push({ name: toName(m), source: m });
  for (const dir of productionDependencyDirs(root)) {
    for (const f of filesUnder(root, dir, true)) files.push({ name: f, source: join(root, f) });
  }
  return { files, packageJson: deployedPackageJson(pkg) };
}

export interface PackageResult {
  stagingDir: string;
  zipPath: string;
  files: number;
  stagedBytes: number;
  zipBytes: number;
}

/** Stages the package under `outDir`/app and zips it to `outDir`/alertcap.zip. */
export function buildPackage(root: string, outDir = join(root, DEPLOY_DIR)): PackageResult {
  const { files, packageJson } = planPackage(root);
  const stagingDir = join(outDir, "app");
  rmSync(outDir, { recursive: true, force: true });
  let stagedBytes = 0;
  for (const f of files) {
    const target = join(stagingDir, ...f.name.split("/"));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(f.source, target);
    stagedBytes += statSync(target).size;
  }
  const packageJsonPath = join(stagingDir, "package.json");
  writeFileSync(packageJsonPath, `${JSON.stringify(packageJson, null, 2)}\n`);
  stagedBytes += statSync(packageJsonPath).size;
  const entries = [{ name: "package.json", source: packageJsonPath }, ...files.map((f) => ({ name: f.name, source: join(stagingDir, ...f.name.split("/")) }))];
  const zipPath = join(outDir, "alertcap.zip");
  const zipBytes = writeZip(zipPath, entries);
  return { stagingDir, zipPath, files: entries.length, stagedBytes, zipBytes };
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    const root = resolve(import.meta.dirname, "../..");
    const r = buildPackage(root);
    const rel = (p: string): string => relative(process.cwd(), p) || ".";
    console.log(`${rel(r.zipPath)}: ${r.files} files, ${mb(r.zipBytes)} zipped (${mb(r.stagedBytes)} unpacked; budget ${mb(PACKAGE_BUDGET_BYTES)}). azd deploys ${rel(r.stagingDir)} (azure.yaml dist).`);
    if (r.zipBytes > PACKAGE_BUDGET_BYTES) {
      console.error(`package is over its ${mb(PACKAGE_BUDGET_BYTES)} budget`);
      process.exitCode = 1;
    }
  } catch (e) {
    console.error(`package: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
