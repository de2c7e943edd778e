// The local stack (Azurite, ARM emulator, Functions host) for end-to-end tests, with helpers that talk to it the
// way a user would: the webhook, the status endpoints and the durable management API.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../../local/stack.js";
import { eventually } from "./hostProcess.js";

export interface Capture {
  id: string;
  runtimeStatus: string;
  phase: string;
  target: string;
  captureName: string | null;
  networkWatcherStatus: string | null;
  stopReason: string | null;
  stopRequestedBecause: string | null;
  storagePath: string | null;
  failureReason: string | null;
  packetCaptureErrors: string[];
  analysis: unknown;
  reportPath: string | null;
  notifications: Array<{ target: string; format: string; delivered: boolean; attempts: number; error?: string }>;
}

export interface TestStack extends LocalStack {
  postAlert(body: string, contentType?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  capture(id: string): Promise<Capture>;
  waitForCapture(id: string, done: (c: Capture) => boolean, what: string, timeoutMs?: number): Promise<Capture>;
  durableStatus(id: string): Promise<{ runtimeStatus: string; historyEvents?: Array<Record<string, unknown>> }>;
}

export async function startTestStack(options: Partial<LocalStackOptions> = {}): Promise<TestStack> {
  const stack = await startLocalStack({
    dataDir: mkdtempSync(join(tmpdir(), "alertcap-stack-")),
    port: 0,
    functionKey: "test-function-key",
    emulatorSpeed: 10,
    ...options,
    appSettings: { ALERTCAP_CAPTURE_SECONDS: "100", ALERTCAP_POLL_SECONDS: "1", ALERTCAP_FILE_WAIT_SECONDS: "60", ALERTCAP_COOLDOWN_SECONDS: "0", ...options.appSettings },
  });
  // The test reads Azure state (captures at the emulator) through the product's own ARM adapter, as activities do.
  process.env.ALERTCAP_ARM_ENDPOINT = stack.armUrl;
  process.env.ALERTCAP_ARM_CA_CERT = stack.armCaCertPath;
  const key = `code=${stack.functionKey}`;
  const test: TestStack = Object.assign(stack, {
    async postAlert(body: string, contentType = "application/json") {
      const res = await fetch(`${stack.url}/api/alerts?${key}`, { method: "POST", headers: { "content-type": contentType }, body });
      const text = await res.text();
      try {
        return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
      } catch {
        return { status: res.status, body: { unparsedBody: text } };
      }
    },
    async capture(id: string) {
      const res = await fetch(`${stack.url}/api/captures/${id}?${key}`);
      if (res.status !== 200) throw new Error(`GET /api/captures/${id} answered ${res.status}`);
      return (await res.json()) as Capture;
    },
    waitForCapture(id: string, done: (c: Capture) => boolean, what: string, timeoutMs = 60_000) {
      return eventually(async () => {
        const c = await test.capture(id).catch(() => undefined);
        return c && done(c) ? c : undefined;
      }, `capture ${id}: ${what}`, timeoutMs);
    },
    async durableStatus(id: string) {
      const res = await fetch(`${stack.url}/runtime/webhooks/durabletask/instances/${id}?showHistory=true&code=${stack.systemKey}`);
      return (await res.json()) as { runtimeStatus: string; historyEvents?: Array<Record<string, unknown>> };
    },
  });
  return test;
}
