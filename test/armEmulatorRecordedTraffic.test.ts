// Microsoft's own recorded packet-capture traffic (azure-cli 2026, azure-sdk-for-python 2020, azure-powershell
// 2023; trimmed copies and provenance in test/fixtures/recordings/) replayed against the emulator: every request is
// sent as recorded, and the answer must have the recorded status, the recorded polling and pacing headers, and the
// recorded body (etag values, timestamps and operation IDs compared by shape only).
//
// Where a recording shows a finished state (an operation Succeeded, a session Stopped), the replay re-reads until the
// emulator gets there (only GETs and queryStatus are re-sent): the recordings, too, polled until then.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { rawArmRequest, type RawArmResponse } from "../local/arm-emulator/testing/rawArmRequest.js";

const RECORDINGS = new URL("../../test/fixtures/recordings/", import.meta.url);
const SPEED = 10;
const POLLING_HEADERS = ["azure-asyncoperation", "location"] as const;

interface RecordedExchange {
  note?: string;
  request: { method: string; uri: string; body?: unknown };
  /** `body`: absent = trimmed (not compared); "" = empty; null = the JSON text `null`. */
  response: { status: number; headers?: Record<string, string>; body?: unknown };
}

interface Recording {
  recording: string;
  interactions: RecordedExchange[];
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Volatile values reduced to their shape: etags, capture start times, operation IDs. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (key === "etag" && typeof item === "string") return [key, item.replace(GUID, "<guid>")];
      if (key === "captureStartTime" && typeof item === "string") return [key, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/.test(item) ? "<time>" : item];
      if (key === "queryPacketCaptureLastOperationId" && typeof item === "string") return [key, item.replace(GUID, "<guid>")];
      return [key, normalise(item)];
    }),
  );
}

/** A polling URL's identity without host, operation ID or signature: `/subscriptions/…/operations/<guid>` + api-version. */
function pollingShape(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname.replace(GUID, "<guid>")}?api-version=${parsed.searchParams.get("api-version")}`;
}

/** The recorded answer shows a state the emulator may still be on its way to. */
function reached(response: RawArmResponse, recorded: RecordedExchange["response"]): boolean {
  if (response.status !== recorded.status) return false;
  const want = recorded.body as Record<string, unknown> | undefined | null;
  const got = response.json as Record<string, unknown> | undefined | null;
  if (!want || typeof want !== "object") return true;
  for (const key of ["status", "packetCaptureStatus"]) {
    if (want[key] !== undefined && got?.[key] !== want[key]) return false;
  }
  const wantState = (want["properties"] as Record<string, unknown> | undefined)?.["provisioningState"];
  return wantState === undefined || (got?.["properties"] as Record<string, unknown> | undefined)?.["provisioningState"] === wantState;
}

async function replay(emulator: ArmEmulator, recording: Recording): Promise<void> {
  // Recorded polling URL (by path) → the emulator's URL for the same operation.
  const pollingUrls = new Map<string, string>();
  for (const [index, exchange] of recording.interactions.entries()) {
    const { request, response: recorded } = exchange;
    const what = `${recording.recording} #${index + 1} ${request.method} ${request.uri}`;
    const absolute = /^https:\/\//.test(request.uri);
    const path = absolute ? pollingUrls.get(new URL(request.uri).pathname.toLowerCase()) : request.uri;
    if (path === undefined) throw new Error(`${what}: no earlier answer named this polling URL`);
    const send = () => rawArmRequest(emulator, { method: request.method, path, ...(request.body !== undefined && { body: request.body }) });
    const repeatable = request.method === "GET" || /\/queryStatus\?/.test(request.uri);
    let response = await send();
    const deadline = Date.now() + 15_000;
    while (repeatable && !reached(response, recorded) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      response = await send();
    }

    expect(response.status, what).toBe(recorded.status);
    if (recorded.headers === undefined) continue; // trimmed to the status
    const headers = recorded.headers;
    for (const name of POLLING_HEADERS) {
      const got = response.headers[name] as string | undefined;
      expect(got !== undefined, `${what}: header ${name}`).toBe(headers[name] !== undefined);
      if (got !== undefined && headers[name] !== undefined) {
        expect(pollingShape(got), `${what}: ${name}`).toBe(pollingShape(headers[name]));
        pollingUrls.set(new URL(headers[name]).pathname.toLowerCase(), got);
      }
    }
    // Pacing and notification headers where the recording has them (the emulator also sends them where older
    // recordings predate them: see local/arm-emulator/README.md).
    if (headers["retry-after"] !== undefined) {
      expect(response.headers["retry-after"], `${what}: Retry-After`).toBe(String(Math.round(Number(headers["retry-after"]) / SPEED)));
    }
    if (headers["azure-asyncnotification"] !== undefined) {
      expect(response.headers["azure-asyncnotification"], what).toBe(headers["azure-asyncnotification"]);
    }
    if (headers["etag"] !== undefined) {
      expect(String(response.headers["etag"]).replace(GUID, "<guid>"), `${what}: ETag`).toBe(headers["etag"].replace(GUID, "<guid>"));
      expect(response.headers["etag"], `${what}: ETag = body etag`).toBe((response.json as { etag?: string }).etag);
    }

    if (!("body" in recorded)) continue;
    if (recorded.body === "") expect(response.text, what).toBe("");
    else if (recorded.body === null) expect(response.text, what).toBe("null");
    else expect(normalise(response.json), what).toEqual(normalise(recorded.body));
  }
}

const emulators: ArmEmulator[] = [];
afterAll(async () => {
  await Promise.all(emulators.map((emulator) => emulator.close()));
});

describe("recorded packet-capture traffic", () => {
  for (const file of [
    "azure-cli.test_network_watcher_packet_capture.json",
    "azure-sdk-for-python.network_watcher_packet_capture.json",
    "azure-powershell.NetworkWatcherAPITests.TestPacketCapture.json",
  ]) {
    const recording = JSON.parse(readFileSync(new URL(file, RECORDINGS), "utf8")) as Recording;
    it(`answers ${recording.recording} (${file}) as recorded`, async () => {
      const emulator = await startArmEmulator({
        inventory: fileURLToPath(new URL("inventory.json", RECORDINGS)),
        speedFactor: SPEED,
        packetSource: "synthetic",
        undocumentedFields: true,
        log: () => {},
      });
      emulators.push(emulator);
      await replay(emulator, recording);
    }, 60_000);
  }
});
