import type { HttpSummary } from "./captureSummary.js";
import { BoundedTally, LatencySamples } from "./latencySamples.js";
import { safeAscii } from "./safeText.js";

const MAX_HOSTS = 256;
const MAX_HOST_CHARS = 128;
/** Bytes of a segment searched for the request line's end and the Host header. */
const MAX_HEAD_SCAN = 4096;
/** Requests awaiting their response, per flow and in all. */
const MAX_PENDING_PER_FLOW = 32;
const MAX_PENDING_FLOWS = 65_536;
const METHOD_NAMES = ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"];
const METHODS = METHOD_NAMES.map((m) => Buffer.from(`${m} `));
const HTTP1 = Buffer.from("HTTP/1.");
const SPACE_HTTP1 = Buffer.from(" HTTP/1.");
/** "100" … "999", made once: no string per response. */
const STATUS_TEXT = Array.from({ length: 1000 }, (_, code) => String(code));
const NO_HOST = "(no Host header)";

class HostStats {
  requests = 0;
  responses = 0;
  clientErrors = 0;
  serverErrors = 0;
  readonly statusCodes = new BoundedTally(64);
  readonly latency = new LatencySamples();
  constructor(readonly host: string) {}
}

interface Pending {
  time: number;
  host: HostStats;
}

/**
 * HTTP/1.x recognised by payload on any TCP port: a segment that starts with a request line (METHOD target HTTP/1.x)
 * or a status line (HTTP/1.x NNN). Requests are matched to responses in order on their flow (HTTP/1 answers in
 * request order), which gives the response time per Host: first request byte → status line.
 */
export class HttpStats {
  requests = 0;
  responses = 0;
  /** Responses with a 5xx status, all hosts together. */
  serverErrors = 0;
  readonly methods = new BoundedTally(16);
  readonly statusCodes = new BoundedTally(600);
  private readonly hosts = new Map<string, HostStats>();
  private readonly otherHosts = new HostStats("(other hosts)");
  private readonly unmatched = new HostStats("(request not captured)");
  private readonly pending = new Map<number, Pending[]>();

  /** A TCP payload; true when it was an HTTP request or response. */
  segment(view: DataView, start: number, length: number, flow: number, time: number): boolean {
    if (length < 12) return false;
    const first = view.getUint8(start);
    if (first === 0x48 /* H */ && startsWith(view, start, length, HTTP1)) return this.response(view, start, length, flow, time);
    if (first < 0x41 || first > 0x54) return false; // no method starts outside A…T
    for (let m = 0; m < METHODS.length; m++) {
      if (startsWith(view, start, length, METHODS[m]!)) return this.request(view, start, length, m, flow, time);
    }
    return false;
  }

  private request(view: DataView, start: number, length: number, method: number, flow: number, time: number): boolean {
    const methodLength = METHOD_NAMES[method]!.length;
    const scanEnd = start + Math.min(length, MAX_HEAD_SCAN);
    const lineEnd = indexOfCrlf(view, start, scanEnd);
    // The request line must end in " HTTP/1.x": body bytes that happen to start with "GET " are not a request.
    if (lineEnd < 0 || lineEnd - start < methodLength + 10 || !startsWith(view, lineEnd - 9, 9, SPACE_HTTP1)) return false;
    this.requests++;
    this.methods.add(METHOD_NAMES[method]!);
    const host = this.host(hostHeader(view, lineEnd + 2, scanEnd) ?? NO_HOST);
    host.requests++;
    if (flow >= 0) {
      let queue = this.pending.get(flow);
      if (!queue) {
        if (this.pending.size >= MAX_PENDING_FLOWS) return true;
        queue = [];
        this.pending.set(flow, queue);
      }
      if (queue.length < MAX_PENDING_PER_FLOW) queue.push({ time, host });
    }
    return true;
  }

  private response(view: DataView, start: number, length: number, flow: number, time: number): boolean {
    // "HTTP/1.x NNN": version digit, space, three digits.
    const v = view.getUint8(start + 7);
    if ((v !== 0x30 && v !== 0x31) || view.getUint8(start + 8) !== 0x20) return false;
    let code = 0;
    for (let i = 9; i < 12; i++) {
      const d = view.getUint8(start + i) - 0x30;
      if (d < 0 || d > 9) return false;
      code = code * 10 + d;
    }
    if (code < 100) return false;
    this.responses++;
    const status = STATUS_TEXT[code]!;
    this.statusCodes.add(status);
    const queue = flow >= 0 ? this.pending.get(flow) : undefined;
    const request = queue?.[0];
    // A 1xx (100 Continue) is not the final answer: the request stays first in line for the next status line.
    if (queue && code >= 200) {
      queue.shift();
      if (queue.length === 0) this.pending.delete(flow);
    }
    const host = request ? request.host : this.unmatched;
    host.responses++;
    host.statusCodes.add(status);
    if (code >= 500) {
      host.serverErrors++;
      this.serverErrors++;
    }
    else if (code >= 400) host.clientErrors++;
    if (request) host.latency.add(time - request.time);
    return true;
  }

  private host(name: string): HostStats {
    let h = this.hosts.get(name);
    if (!h) {
      if (this.hosts.size >= MAX_HOSTS) return this.otherHosts;
      h = new HostStats(name);
      this.hosts.set(name, h);
    }
    return h;
  }

  summary(top: number): HttpSummary {
    const all = [...this.hosts.values(), this.otherHosts, this.unmatched].filter((h) => h.requests + h.responses > 0);
    const hosts = all
      .sort((a, b) => b.requests + b.responses - (a.requests + a.responses) || (a.host < b.host ? -1 : 1))
      .slice(0, top)
      .map((h) => ({
        host: h.host,
        requests: h.requests,
        responses: h.responses,
        clientErrors: h.clientErrors,
        serverErrors: h.serverErrors,
        statusCodes: h.statusCodes.record(),
        responseTimeP50Ms: h.latency.percentileMs(50),
        responseTimeP95Ms: h.latency.percentileMs(95),
      }));
    return { requests: this.requests, responses: this.responses, methods: this.methods.record(), statusCodes: this.statusCodes.record(), hosts };
  }
}

function startsWith(view: DataView, start: number, length: number, prefix: Buffer): boolean {
  if (length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (view.getUint8(start + i) !== prefix[i]) return false;
  return true;
}

function indexOfCrlf(view: DataView, start: number, end: number): number {
  for (let p = start; p + 1 < end; p++) if (view.getUint8(p) === 0x0d && view.getUint8(p + 1) === 0x0a) return p;
  return -1;
}

/** The Host header's value among the header lines from `p` (case-insensitive name, trimmed), or null. */
function hostHeader(view: DataView, p: number, end: number): string | null {
  while (p < end) {
    const lineEnd = indexOfCrlf(view, p, end);
    const stop = lineEnd < 0 ? end : lineEnd;
    if (stop === p) return null; // the blank line: end of headers
    if (stop - p > 5 && (view.getUint8(p) | 0x20) === 0x68 && (view.getUint8(p + 1) | 0x20) === 0x6f && (view.getUint8(p + 2) | 0x20) === 0x73 &&
      (view.getUint8(p + 3) | 0x20) === 0x74 && view.getUint8(p + 4) === 0x3a) {
      let a = p + 5;
      let b = stop;
      while (a < b && (view.getUint8(a) === 0x20 || view.getUint8(a) === 0x09)) a++;
      while (b > a && (view.getUint8(b - 1) === 0x20 || view.getUint8(b - 1) === 0x09)) b--;
      return safeAscii(view, a, b - a, MAX_HOST_CHARS).toLowerCase();
    }
    if (lineEnd < 0) return null;
    p = lineEnd + 2;
  }
  return null;
}
