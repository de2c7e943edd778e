// The local host facing hostile requests: whatever arrives on either listener (the public one or the durable client
// listener), it answers 4xx and keeps running, and nothing it prints contains a key.
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostProcess, startHostProcess } from "../support/hostProcess.js";

const SAMPLE_APP = "dist/test/fixtures/sample-app/*.js";

/** Sends raw bytes (so the request line and Host header can be anything) and reads the status code; 0 = no answer. */
function rawRequest(port: number, head: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (answer += chunk));
    socket.on("error", () => resolve(0));
    socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    // No half-close: the server would drop the connection before an asynchronous answer.
    socket.setTimeout(20_000, () => socket.destroy());
    socket.write(Buffer.from(`${head}Connection: close\r\nContent-Length: 0\r\n\r\n`, "latin1"));
  });
}

const get = (port: number, target: string, host = "127.0.0.1", extra = ""): Promise<number> =>
  rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}`);

describe("local host under hostile requests", () => {
  let host: HostProcess;
  let port: number;
  let rpcPort: number;
  let masterKey: string;

  beforeAll(async () => {
    host = await startHostProcess({ main: SAMPLE_APP });
    port = Number(new URL(host.url).port);
    const listener = /durable client listener on http:\/\/127\.0\.0\.1:(\d+)/.exec(host.output());
    rpcPort = Number(listener?.[1]);
    masterKey = (JSON.parse(readFileSync(join(host.dataDir, "host-keys.json"), "utf8")) as { masterKey: string }).masterKey;
  });
  afterAll(async () => {
    await host?.stop();
  });

  const alive = async (): Promise<void> => {
    expect(await get(port, "/")).toBe(200);
  };

  it("answers a Host header that is no URL authority and keeps running", async () => {
    // The management route refuses the function key (401), and a crash report would have printed it.
    for (const target of ["/", `/api/samples/status/x?code=not-the-key-${"x".repeat(8)}`, `/runtime/webhooks/durabletask/instances?code=${host.functionKey}`]) {
      const status = await get(port, target, "[");
      expect(status, target).toBeGreaterThanOrEqual(200);
      expect(status, target).toBeLessThan(500);
    }
    await alive();
  });

  it("answers 400 to a percent-escape that does not decode, on every route family", async () => {
    expect(await get(port, `/api/samples/%E0%A4%A?code=${host.functionKey}`)).toBe(400);
    expect(await get(port, `/runtime/webhooks/durabletask/instances/%zz?code=${host.systemKey}`)).toBe(400);
    expect(await get(port, "/%")).toBe(400);
    await alive();
  });

  it("requires a key on the durable client listener, as on the public one", async () => {
    expect(rpcPort).toBeGreaterThan(0);
    expect(await get(rpcPort, "/durabletask/instances")).toBe(401);
    expect(await get(rpcPort, "/durabletask/instances/%E0%A4%A")).toBe(400);
    expect(await get(rpcPort, "/durabletask/instances", "[")).toBe(401);
    expect(await get(rpcPort, `/durabletask/instances?code=${host.functionKey}`)).toBe(401);
    expect(await get(rpcPort, "/durabletask/instances", "127.0.0.1", `x-functions-key: ${host.systemKey}\r\n`)).toBe(200);
    await alive();
  });

  it("never answers 5xx or dies, whatever the request line and Host header (fuzzed)", async () => {
    const pathChar = fc.constantFrom("/", "%", "?", "&", "=", "a", "Z", "0", "9", "E", "F", "{", "}", "[", "]", ".", ":", "@", "+", "é", "\u{1F600}", "\\", "#");
    const target = fc.array(pathChar, { maxLength: 40 }).map((chars) => chars.join(""));
    const prefix = fc.constantFrom("/", "/api/", "/api/samples/", "/runtime/webhooks/durabletask/instances/", "/durabletask/instances/", "/admin/host/", "");
    const hostHeader = fc.oneof(fc.constant("127.0.0.1"), fc.string({ unit: "binary-ascii", maxLength: 20 }).map((s) => s.replace(/[\r\n\0]/g, "")));
    const method = fc.constantFrom("GET", "POST", "DELETE", "PUT", "OPTIONS");
    const keyed = fc.constantFrom("", `code=${host.functionKey}`, `code=${host.systemKey}`, "code=%");
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(port, rpcPort), method, prefix, target, keyed, hostHeader, async (listener, verb, start, rest, key, hostValue) => {
        const path = `${start}${rest}`;
        const withKey = key ? `${path}${path.includes("?") ? "&" : "?"}${key}` : path;
        const bytes = Buffer.from(withKey, "utf8").toString("latin1");
        const status = await rawRequest(listener, `${verb} ${bytes} HTTP/1.1\r\nHost: ${hostValue}\r\n`);
        expect(status, `${verb} ${withKey} Host: ${hostValue}`).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
    await alive();
  });

  it("prints where the system key is kept, and no key anywhere", () => {
    const printed = host.output();
    expect(printed).toContain(join(host.dataDir, "host-keys.json"));
    for (const key of [host.functionKey, host.systemKey, masterKey]) expect(printed).not.toContain(key);
  });
});
