// The capture account as activities see it, without the rest of the stack: Azurite with the `network-watcher-logs`
// container (as azd up creates it) and the app settings that point alertcap's blob code at it. Restores the
// environment and removes Azurite's data when stopped.
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { azuriteConnectionString, startAzurite } from "../../local/services.js";
import { SAMPLE_STORAGE_ID } from "../../local/stack.js";

export interface CaptureAccount {
  container: ContainerClient;
  stop(): Promise<void>;
}

/** Starts Azurite and sets ALERTCAP_CAPTURE_BLOB_CONNECTION / ALERTCAP_CAPTURE_STORAGE_ID (plus `settings`). */
export async function startCaptureAccount(name: string, settings: Record<string, string> = {}): Promise<CaptureAccount> {
  const saved = { ...process.env };
  const dataDir = mkdtempSync(join(tmpdir(), `alertcap-${name}-`));
  const azurite = await startAzurite(dataDir);
  const connection = azuriteConnectionString(azurite.ready[0]!);
  Object.assign(process.env, { ALERTCAP_CAPTURE_BLOB_CONNECTION: connection, ALERTCAP_CAPTURE_STORAGE_ID: SAMPLE_STORAGE_ID, ...settings });
  delete process.env.ALERTCAP_CLOUD;
  const container = BlobServiceClient.fromConnectionString(connection).getContainerClient("network-watcher-logs");
  await container.createIfNotExists();
  return {
    container,
    async stop() {
      process.env = saved;
      await azurite.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
