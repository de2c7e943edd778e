// Plain HTTPS requests to the emulator, for what the SDK cannot send (no token, no api-version, a body the SDK's
// serializer would refuse) and for reading raw status codes and headers.

import { request } from "node:https";

export interface RawArmResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body, `undefined` when the body is empty. */
  json: unknown;
}

export interface RawArmRequest {
  method?: string;
  /** Path and query, e.g. `/subscriptions/...?api-version=2026-01-01`, or an absolute URL (polling URLs). */
  path: string;
  body?: unknown;
  /** Default `Bearer fake-token`; `null` sends no Authorization header. */
  authorization?: string | null;
  headers?: Record<string, string>;
}

export function rawArmRequest(emulator: { url: string; caCertPem: string }, spec: RawArmRequest): Promise<RawArmResponse> {
  const url = new URL(spec.path, emulator.url);
  const payload = spec.body === undefined ? undefined : typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body);
  const headers: Record<string, string> = { ...spec.headers };
  if (spec.authorization !== null) headers["Authorization"] = spec.authorization ?? "Bearer fake-token";
  if (payload !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["Content-Length"] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method: spec.method ?? "GET", headers, ca: emulator.caCertPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: text === "" ? undefined : JSON.parse(text) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}
