// A host that never answers a connection attempt: the VM's SYN goes out, is retransmitted, and nothing comes back.
//
// On loopback every address is local, so a port with no listener answers RST at once. A listener whose accept queue
// is full, though, makes Linux drop new SYNs silently. Node accepts every connection as soon as its event loop runs,
// so the listener lives in a worker thread whose event loop is kept blocked (Atomics.wait) after two filler
// connections from 127.0.0.1 (not an emulated address, so never in a capture) have filled its queue (backlog 1).

import { connect, type Socket } from "node:net";
import { Worker } from "node:worker_threads";
import { BLOCK_PROBES, blockAddresses, homeBlock, probedBlock, SILENT_HOST_KEY, TRAFFIC_PORTS } from "./addresses.js";

export interface SilentHost {
  address: string;
  port: number;
  close(): Promise<void>;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const net = require("node:net");
const server = net.createServer();
server.on("error", (error) => parentPort.postMessage({ error: error.code || error.message }));
server.listen({ host: workerData.host, port: workerData.port, backlog: 1 }, () => {
  parentPort.postMessage({ listening: true });
  // Block this thread's event loop so the listener never accepts; woken once to close.
  while (Atomics.load(workerData.release, 0) === 0) Atomics.wait(workerData.release, 0, 0, 1000);
  server.close();
  process.exit(0);
});
`;

export async function startSilentHost(): Promise<SilentHost> {
  const home = homeBlock(SILENT_HOST_KEY);
  let lastError = "";
  for (let probe = 0; probe < BLOCK_PROBES; probe++) {
    const address = blockAddresses(probedBlock(home, probe)).silentHost;
    const started = await listenInWorker(address, TRAFFIC_PORTS.silentDatabase);
    if ("host" in started) return started.host;
    lastError = started.error;
    if (started.error !== "EADDRINUSE") break;
  }
  throw new Error(`the emulated silent host cannot listen: ${lastError}`);
}

async function listenInWorker(address: string, port: number): Promise<{ host: SilentHost } | { error: string }> {
  const release = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { host: address, port, release } });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const first = await new Promise<{ listening?: boolean; error?: string }>((resolve) => {
    worker.once("message", resolve);
    worker.once("error", (error) => resolve({ error: error.message }));
  });
  if (!first.listening) {
    await worker.terminate();
    return { error: first.error ?? "worker failed" };
  }
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) fillers.push(await fillerConnection(address, port));
  return {
    host: {
      address,
      port,
      async close() {
        // Unreferenced while it runs (it must not keep a process alive), referenced while we wait for it to end.
        worker.ref();
        Atomics.store(release, 0, 1);
        Atomics.notify(release, 0);
        for (const filler of fillers) filler.destroy();
        await exited;
      },
    },
  };
}

function fillerConnection(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress: "127.0.0.1" }, () => resolve(socket));
    socket.once("error", reject);
    socket.on("error", () => {});
  });
}
