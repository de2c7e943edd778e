// `npm run bench:webhook`: the alert webhook under load on the local stack, and the delay from an alert to the
// capture's PUT at (emulated) Network Watcher.
//
// 1. Load: autocannon posts alerts over 100 VMs (so most deliveries are duplicates of a running capture) with 50
//    connections for 10 s; p50/p99 latency and throughput are printed against a named baseline, the same host's
//    static `GET /` (HTTP handling and logging only, no function, no durable state).
// 2. Time to capture: 20 alerts on idle VMs, one at a time; for each, the time until the capture exists at the
//    emulator (the PUT has been accepted), polled every 10 ms through the ARM API.
import autocannon from "autocannon";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { armClients } from "../azure/armClients.js";
import { startLocalStack } from "../local/stack.js";
import { metricAlert } from "../test/support/alerts.js";
import { fleetVm, writeFleetInventory } from "../test/support/inventory.js";

const SUBSCRIPTION = "00000000-0000-0000-0000-000000000001";
const LOAD_VMS = 100;
const DELAY_SAMPLES = 20;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function load(url: string, requests: autocannon.Request[]): Promise<autocannon.Result> {
  return autocannon({ url, connections: 50, duration: 10, requests });
}

const stack = await startLocalStack({
  dataDir: mkdtempSync(join(tmpdir(), "alertcap-bench-")),
  port: 0,
  functionKey: "bench-key",
  inventoryPath: writeFleetInventory(LOAD_VMS + DELAY_SAMPLES),
  packetSource: "synthetic",
  appSettings: { ALERTCAP_CAPTURE_SECONDS: "600", ALERTCAP_POLL_SECONDS: "30" },
});
process.env.ALERTCAP_ARM_ENDPOINT = stack.armUrl;
process.env.ALERTCAP_ARM_CA_CERT = stack.armCaCertPath;

try {
  const bodies = Array.from({ length: LOAD_VMS }, (_, i) => metricAlert(fleetVm(i)));
  let next = 0;
  const webhook = await load(`${stack.url}/api/alerts?code=${stack.functionKey}`, [
    { method: "POST", headers: { "content-type": "application/json" }, setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length]! }) },
  ]);
  const baseline = await load(`${stack.url}/`, [{ method: "GET" }]);

  const delays: number[] = [];
  const network = armClients(SUBSCRIPTION).network;
  for (let i = 0; i < DELAY_SAMPLES; i++) {
    const vm = fleetVm(LOAD_VMS + i).toLowerCase();
    const started = performance.now();
    const res = await fetch(`${stack.url}/api/alerts?code=${stack.functionKey}`, { method: "POST", headers: { "content-type": "application/json" }, body: metricAlert(fleetVm(LOAD_VMS + i)) });
    if (res.status !== 202) throw new Error(`alert ${i} answered ${res.status}`);
    for (;;) {
      let found = false;
      for await (const c of network.packetCaptures.list("NetworkWatcherRG", "NetworkWatcher_westus2")) if (c.target?.toLowerCase() === vm) found = true;
      if (found) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    delays.push(performance.now() - started);
  }

  const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(1)}×` : "n/a");
  console.log(`webhook load (${LOAD_VMS} VMs, 50 connections, 10 s), baseline = the same host's static GET /`);
  console.log(`  POST /api/alerts  ${webhook.requests.total} requests, ${webhook.requests.average.toFixed(0)} req/s, latency p50 ${webhook.latency.p50} ms, p99 ${webhook.latency.p99} ms, non-2xx ${webhook.non2xx}, errors ${webhook.errors}`);
  console.log(`  GET / (baseline)  ${baseline.requests.total} requests, ${baseline.requests.average.toFixed(0)} req/s, latency p50 ${baseline.latency.p50} ms, p99 ${baseline.latency.p99} ms`);
  console.log(`  webhook against baseline: ${ratio(baseline.requests.average, webhook.requests.average)} fewer requests per second, p50 latency ${ratio(webhook.latency.p50, baseline.latency.p50)}, p99 ${ratio(webhook.latency.p99, baseline.latency.p99)}`);
  console.log(`time from alert to capture PUT accepted (${DELAY_SAMPLES} alerts, local stack, emulator create latency included):`);
  console.log(`  p50 ${percentile(delays, 50).toFixed(0)} ms, p90 ${percentile(delays, 90).toFixed(0)} ms, max ${Math.max(...delays).toFixed(0)} ms`);
} finally {
  await stack.stop();
}
