// `npm start` puts the ARM emulator on `ALERTCAP_ARM_PORT` (shared/contract.md), so curl, the Azure CLI and SDK
// scripts can be pointed at a port known in advance.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { rawArmRequest } from "../local/arm-emulator/testing/rawArmRequest.js";
import { startService, type Service } from "../local/services.js";
import { freePort } from "./support/freePort.js";

const START = fileURLToPath(new URL("../local/start.js", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "alertcap-start-"));
let stack: Service | undefined;

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it("serves the ARM emulator on ALERTCAP_ARM_PORT", async () => {
  const armPort = await freePort();
  stack = await startService({
    name: "npm start",
    args: [START],
    env: { ...process.env, PORT: "0", ALERTCAP_ARM_PORT: String(armPort), ALERTCAP_DATA_DIR: dataDir, ALERTCAP_EMULATOR_PACKET_SOURCE: "synthetic" },
    readyPatterns: [/ARM emulator:\s+(https:\/\/\S+)/],
    timeoutMs: 60_000,
  });
  expect(stack.ready[0]).toBe(`https://127.0.0.1:${armPort}`);
  const caCertPem = readFileSync(join(dataDir, "arm-emulator-cert.pem"), "utf8");
  const watchers = await rawArmRequest(
    { url: `https://127.0.0.1:${armPort}`, caCertPem },
    { path: "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Network/networkWatchers?api-version=2026-01-01" },
  );
  expect(watchers.status).toBe(200);
}, 90_000);
