// Whether a flight recorder secured a lookback for this incident, and how far it got: the capture orchestration
// waits on durable timers until the manifest says complete (or its wait ends), then has it analysed with the capture.
import * as df from "durable-functions";
import { StoragePathRefusedError } from "../azure/captureFiles.js";
import { readIncidentManifest } from "../azure/lookbackManifest.js";
import { READ_LOOKBACK, type ReadLookbackInput, type ReadLookbackOutput } from "./contracts.js";

export async function readLookback({ storagePath, incidentId, firedAt }: ReadLookbackInput): Promise<ReadLookbackOutput> {
  let manifest: Awaited<ReturnType<typeof readIncidentManifest>>;
  try {
    manifest = await readIncidentManifest(storagePath, incidentId, firedAt);
  } catch (error) {
    // Not retried: a path alertcap refuses stays refused. Anything else (storage unreachable) is retried by the caller.
    if (error instanceof StoragePathRefusedError) return { found: false, reason: error.message };
    throw error;
  }
  if (manifest === null) return { found: false, reason: "no recorder secured a lookback for this incident" };
  if (typeof manifest === "string") return { found: false, reason: manifest };
  return {
    found: true,
    complete: manifest.complete,
    files: manifest.lookback.length,
    firstSecuredAt: manifest.firstSecuredAt,
    securedAt: manifest.securedAt,
    notes: manifest.notes,
  };
}

df.app.activity(READ_LOOKBACK, { handler: readLookback });
