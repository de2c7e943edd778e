// Standalone ARM emulator: `node dist/local/arm-emulator/main.js`.
// Reads its settings from the environment (see README), prints the URL and the certificate path, runs until
// SIGINT/SIGTERM.

import { fileURLToPath } from "node:url";
import { startArmEmulator } from "./armEmulator.js";
import { armEmulatorOptionsFromEnv } from "./options.js";

// dist/local/arm-emulator/main.js → the repository root, whose `.alertcap/` is the default data directory.
const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));

async function main(): Promise<void> {
  const options = armEmulatorOptionsFromEnv(process.env, `${repositoryRoot}.alertcap`);
  const emulator = await startArmEmulator(options);
  process.stdout.write(`alertcap ARM emulator listening on ${emulator.url}\n`);
  process.stdout.write(`alertcap ARM emulator certificate: ${emulator.caCertPath}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`alertcap ARM emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
