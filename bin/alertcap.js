#!/usr/bin/env node
// alertcap runs on Node 22. npm puts node_modules/.bin (the `node` package's Node 22) first on PATH for npm scripts
// and npx, but a direct call or `npx --prefix` from elsewhere may start us on the system Node: re-exec on 22 then.
// Start-up is a good part of a short command, so this file loads as little as it can: fs through require (an ESM
// import of node:fs builds its full export list, loading streams, readline and fs/promises: ~6 ms), and
// child_process (~7 ms) only when it must build or re-exec.
// A namespace import: a named import of enableCompileCache (Node ≥ 22.1) is a SyntaxError on Node 20, before any
// line of this file could re-exec on Node 22.
import * as nodeModule from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const require = nodeModule.createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "dist", "cli", "main.js");

// Right after `npm ci` nothing is built yet (npm test and npm start build first): build once, quietly unless it fails.
if (!require("node:fs").existsSync(entry)) {
  const tsc = join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");
  const build = require("node:child_process").spawnSync(process.execPath, [tsc, "-p", root], { encoding: "utf8" });
  if (build.status !== 0) {
    console.error(`alertcap: building dist/ failed; run \`npm run build\` in ${root} to see why.\n${build.stdout}${build.stderr}`);
    process.exit(1);
  }
}

// 22.3 is the first 22 with process.getBuiltinModule, which the CLI's modules use to load fs without its ESM facade.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major === 22 && minor >= 3) {
  // Keep V8's compiled code between runs (in the OS temp folder): start-up is a good part of a short command.
  nodeModule.enableCompileCache?.();
  await import(pathToFileURL(entry).href);
} else {
  let node22;
  try {
    node22 = join(dirname(require.resolve("node/package.json")), "bin", "node");
  } catch {
    console.error(`alertcap needs Node 22.3 or later 22.x (this is ${process.version}); run \`npm ci\` in ${root} to install it.`);
    process.exit(1);
  }
  const run = require("node:child_process").spawnSync(node22, [entry, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(run.status ?? 1);
}
