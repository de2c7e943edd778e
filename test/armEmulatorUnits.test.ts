// Pieces of the ARM emulator that need no server: filter → BPF translation, seeded fault decisions, inventory
// parsing, the resource model's default watchers, pcap writing/trimming, blob naming and the spec schema.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { checkFilter, filtersToBpf, FilterSyntaxError, ipv4RangeToCidrs } from "../local/arm-emulator/capture/filters.js";
import { buildPcap, countPcapPackets, syntheticConversation, trimPcap } from "../local/arm-emulator/capture/pcapFile.js";
import { schemaProblems } from "../local/arm-emulator/capture/requestValidation.js";
import { blobLocationFromUrl, defaultCaptureBlobName } from "../local/arm-emulator/capture/storage.js";
import { FaultInjector, loadFaultPlan, parseFaultPlan, FaultPlanError } from "../local/arm-emulator/faults.js";
import { InventoryError, loadInventoryFile, parseInventory } from "../local/arm-emulator/inventory.js";
import { decisionRandom, mulberry32 } from "../local/arm-emulator/prng.js";
import { ResourceModel } from "../local/arm-emulator/resourceModel.js";
import { readPcap } from "../local/arm-emulator/testing/pcapPackets.js";

const SUB = "00000000-0000-0000-0000-0000000000aa";
const vmId = (rg: string, name: string) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;

const tcpdumpAvailable = spawnSync("tcpdump", ["--version"]).status === 0;

/** Compiles a BPF expression with tcpdump (against an empty Ethernet pcap, so no capture permission is needed). */
function bpfCompiles(expression: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), "arm-emulator-test-"));
  try {
    const empty = join(dir, "empty.pcap");
    writeFileSync(empty, buildPcap([], 262144));
    return spawnSync("tcpdump", ["-d", "-r", empty, expression]).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("capture filters → BPF", () => {
  it("captures everything without filters or with an unconstrained filter", () => {
    expect(filtersToBpf(undefined)).toBeUndefined();
    expect(filtersToBpf([])).toBeUndefined();
    expect(filtersToBpf([{ protocol: "TCP", localPort: "80" }, { protocol: "Any" }])).toBeUndefined();
  });

  it("turns a protocol-only filter into the protocol", () => {
    expect(filtersToBpf([{ protocol: "UDP" }])).toBe("udp");
  });

  it("matches local/remote in both directions", () => {
    expect(filtersToBpf([{ protocol: "TCP", localIPAddress: "10.0.0.4", localPort: "80" }])).toBe(
      "tcp and ((src host 10.0.0.4 and tcp src port 80) or (dst host 10.0.0.4 and tcp dst port 80))",
    );
    expect(filtersToBpf([{ remoteIPAddress: "10.1.0.9", remotePort: "443" }])).toBe(
      "(dst host 10.1.0.9 and dst port 443) or (src host 10.1.0.9 and src port 443)",
    );
  });

  it("expands lists, port ranges and IPv4 ranges", () => {
    const bpf = filtersToBpf([{ protocol: "TCP", localIPAddress: "10.0.0.1-10.0.0.6", localPort: "80;443;", remotePort: "1000-2000" }]);
    expect(bpf).toContain("(src net 10.0.0.1/32 or src net 10.0.0.2/31 or src net 10.0.0.4/31 or src net 10.0.0.6/32)");
    expect(bpf).toContain("(tcp src port 80 or tcp src port 443)");
    expect(bpf).toContain("tcp dst portrange 1000-2000");
  });

  it("ORs several filters", () => {
    expect(filtersToBpf([{ protocol: "TCP", localPort: "22" }, { protocol: "UDP", remotePort: "53" }])).toBe(
      "(tcp and ((tcp src port 22) or (tcp dst port 22))) or (udp and ((udp dst port 53) or (udp src port 53)))",
    );
  });

  it("computes minimal CIDR blocks", () => {
    expect(ipv4RangeToCidrs("10.0.0.0", "10.0.0.255")).toEqual(["10.0.0.0/24"]);
    expect(ipv4RangeToCidrs("127.0.0.1", "127.0.0.1")).toEqual(["127.0.0.1/32"]);
    expect(ipv4RangeToCidrs("192.168.0.255", "192.168.1.0")).toEqual(["192.168.0.255/32", "192.168.1.0/32"]);
    expect(ipv4RangeToCidrs("0.0.0.0", "255.255.255.255")).toEqual(["0.0.0.0/0"]);
  });

  it("rejects what the spec says is not supported, naming the field", () => {
    const fieldOf = (filter: Parameters<typeof checkFilter>[0]) => {
      try {
        checkFilter(filter);
        return undefined;
      } catch (error) {
        return error instanceof FilterSyntaxError ? `${error.field}: ${error.message}` : String(error);
      }
    };
    expect(fieldOf({ localPort: "80-85;90-95" })).toBe("localPort: multiple ranges are not supported");
    expect(fieldOf({ remotePort: "80-85;443" })).toBe("remotePort: mixing ranges with multiple entries is not supported");
    expect(fieldOf({ localIPAddress: "10.0.0.300" })).toBe("localIPAddress: '10.0.0.300' is not an IP address");
    expect(fieldOf({ remoteIPAddress: "10.0.0.9-10.0.0.1" })).toContain("starts after it ends");
    expect(fieldOf({ localPort: "70000" })).toContain("not a port number");
    expect(fieldOf({ localIPAddress: "fe80::1;fe80::2", localPort: "443" })).toBeUndefined();
    expect(fieldOf({ localIPAddress: "fe80::1", remoteIPAddress: "10.0.0.1" })).toBe(
      "remoteIPAddress: must include the IP version (IPv4/IPv6) of localIPAddress",
    );
  });

  it.skipIf(!tcpdumpAvailable)("produces expressions tcpdump compiles", () => {
    const cases = [
      [{ protocol: "TCP", localIPAddress: "10.0.0.1-10.0.0.6", localPort: "80;443;", remotePort: "1000-2000" }],
      [{ protocol: "UDP", remoteIPAddress: "10.0.0.1;10.0.0.2" }, { protocol: "Any", localPort: "8080" }],
      [{ protocol: "Any", localIPAddress: "fe80::1", remoteIPAddress: "::1" }],
    ];
    for (const filters of cases) {
      const bpf = filtersToBpf(filters);
      expect(bpf).toBeDefined();
      expect(bpfCompiles(`(${bpf}) and not (tcp port 1 or tcp port 2)`), bpf).toBe(true);
    }
  });
});

describe("seeded faults", () => {
  it("mulberry32 repeats for a seed and differs between seeds", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect([c(), c(), c()]).not.toEqual(first);
    expect(first.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(decisionRandom(7, "x|1")).toBe(decisionRandom(7, "x|1"));
  });

  it("decides the n-th request of an operation the same way however requests interleave", () => {
    const plan = parseFaultPlan({ seed: 99, rules: [{ kind: "serverError", status: 503, probability: 0.5 }] });
    const run = (order: string[]) => {
      const injector = new FaultInjector(plan);
      const outcomes = new Map<string, boolean[]>();
      for (const operation of order) {
        const failed = injector.onRequest(operation, "read", SUB).error !== undefined;
        outcomes.set(operation, [...(outcomes.get(operation) ?? []), failed]);
      }
      return outcomes;
    };
    const ops = Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? "PacketCaptures_Get" : "NetworkWatchers_Get"));
    const interleavedDifferently = [...ops].sort();
    const first = run(ops);
    expect(run(interleavedDifferently)).toEqual(first);
    const decisions = [...first.values()].flat();
    expect(decisions).toContain(true);
    expect(decisions).toContain(false);
  });

  it("honours skip, times, operation patterns and kinds", () => {
    const injector = new FaultInjector(
      parseFaultPlan({
        seed: 1,
        rules: [
          { kind: "throttle", operation: "PacketCaptures_*", skip: 1, times: 2, retryAfterSeconds: 3 },
          { kind: "delay", operation: ["NetworkWatchers_Get"], delayMs: 250 },
          { kind: "lroFailure" },
          { kind: "captureError", errors: ["StorageFailed"], afterSeconds: 5 },
        ],
      }),
    );
    const statuses = [1, 2, 3, 4].map(() => injector.onRequest("PacketCaptures_Get", "read", SUB).error?.status);
    expect(statuses).toEqual([undefined, 429, 429, undefined]);
    const throttled = new FaultInjector(parseFaultPlan({ rules: [{ kind: "throttle", retryAfterSeconds: 3 }] }));
    const error = throttled.onRequest("PacketCaptures_Create", "write", SUB).error;
    expect(error?.headers["Retry-After"]).toBe("3");
    expect(error?.message).toContain("Number of 'write' requests for subscription");
    expect(injector.onRequest("NetworkWatchers_Get", "read", SUB).delayMs).toBe(250);
    expect(injector.lroFailure("PacketCaptures_Stop")).toEqual({ code: "InternalServerError", message: "An error occurred." });
    expect(injector.lroFailure("PacketCaptures_GetStatus")).toBeUndefined();
    expect(injector.captureFailure("PacketCaptures_Create")).toEqual({ captureStatus: "Stopped", errors: ["StorageFailed"], afterSeconds: 5 });
    expect(injector.fired().map((fault) => fault.kind)).toEqual(["throttle", "throttle", "delay", "lroFailure", "captureError"]);
  });

  it("reads inline JSON or a file, and reports invalid plans", () => {
    expect(loadFaultPlan('{"seed": 5}').seed).toBe(5);
    const dir = mkdtempSync(join(tmpdir(), "arm-emulator-test-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "faults.json"), JSON.stringify({ seed: 6, rules: [{ kind: "reset", operation: "PacketCaptures_Create" }] }));
    expect(loadFaultPlan(join(dir, "faults.json")).rules).toHaveLength(1);
    expect(() => loadFaultPlan('{"rules":[{"kind":"explode"}]}')).toThrow(FaultPlanError);
    expect(() => loadFaultPlan(join(dir, "missing.json"))).toThrow(/cannot read fault file/);
  });
});

describe("inventory", () => {
  it("accepts the contract shape and fills defaults", () => {
    const inventory = parseInventory({
      virtualMachines: [{ id: vmId("rg", "vm1"), location: "West US 2", powerState: "PowerState/Running", networkWatcherExtension: true }],
      virtualMachineScaleSets: [
        {
          id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss`,
          location: "westus2",
          instances: ["0", "1"],
          networkWatcherExtension: true,
        },
      ],
    });
    expect(inventory.virtualMachines[0]).toMatchObject({ location: "westus2", powerState: "running", osType: "Linux" });
    expect(inventory.virtualMachineScaleSets[0]?.instances).toEqual([
      { instanceId: "0", powerState: "running" },
      { instanceId: "1", powerState: "running" },
    ]);
  });

  it("loads the fixtures: the contract's minimal shape and the sample", () => {
    const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/inventory/${name}`, import.meta.url));
    const minimal = new ResourceModel(loadInventoryFile(fixture("minimal.json")));
    expect(minimal.watchersIn("6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f").map((watcher) => watcher.name)).toEqual(["NetworkWatcher_westus2"]);
    const sample = loadInventoryFile(fixture("sample.json"));
    expect(sample.packetCaptures.map((capture) => capture.status)).toEqual(["Running", "Stopped"]);
  });

  it("names every problem of an invalid inventory and warns about unknown keys", () => {
    expect(() => parseInventory({ virtualMachines: [{ id: vmId("rg", "vm1"), location: "westus2", powerState: "sleeping" }] })).toThrow(
      /virtualMachines\[0\]\.powerState|virtualMachines\.0\.powerState/,
    );
    const warnings: string[] = [];
    parseInventory({ virtualMachines: [{ id: vmId("rg", "vm1"), location: "westus2", powerstate: "running" }] }, "inv.json", (line) =>
      warnings.push(line),
    );
    expect(warnings).toEqual(["arm-emulator: inv.json: ignoring unknown key $.virtualMachines[0].powerstate"]);
  });

  it("gives every VM region a NetworkWatcherRG/NetworkWatcher_<region> unless told otherwise", () => {
    const model = new ResourceModel(
      parseInventory({
        virtualMachines: [
          { id: vmId("rg", "a"), location: "westus2" },
          { id: vmId("rg", "b"), location: "eastus" },
          { id: vmId("rg", "c"), location: "northeurope" },
        ],
        regionsWithoutNetworkWatcher: ["eastus"],
        networkWatchers: [{ id: `/subscriptions/${SUB}/resourceGroups/nw-rg/providers/Microsoft.Network/networkWatchers/custom-ne`, location: "northeurope" }],
      }),
    );
    expect(model.watchersIn(SUB).map((watcher) => `${watcher.resourceGroup}/${watcher.name}`).sort()).toEqual([
      "NetworkWatcherRG/NetworkWatcher_westus2",
      "nw-rg/custom-ne",
    ]);
    expect(model.virtualMachineById(vmId("RG", "A"))?.name).toBe("a");
    expect(model.hasResourceGroup(SUB, "networkwatcherrg")).toBe(true);
  });

  it("refuses two watchers in one region and duplicate IDs", () => {
    const watcher = (name: string) => ({ id: `/subscriptions/${SUB}/resourceGroups/x/providers/Microsoft.Network/networkWatchers/${name}`, location: "westus2" });
    expect(() => new ResourceModel(parseInventory({ networkWatchers: [watcher("a"), watcher("b")] }))).toThrow(InventoryError);
    expect(
      () => new ResourceModel(parseInventory({ virtualMachines: [{ id: vmId("rg", "a"), location: "westus2" }, { id: vmId("RG", "A"), location: "westus2" }] })),
    ).toThrow(/listed twice/);
  });
});

describe("pcap files", () => {
  it("writes a synthetic TCP conversation that reads back as valid pcap", () => {
    const packets = syntheticConversation(
      { protocol: "TCP", localAddress: "10.0.0.4", remoteAddress: "10.0.0.5", localPort: 443, remotePort: 50000 },
      Date.now() - 1000,
      Date.now(),
    );
    const file = buildPcap(packets, 262144);
    const summary = readPcap(file);
    expect(summary.linkType).toBe(1);
    expect(summary.packets).toHaveLength(10);
    expect(summary.packets.every((packet) => packet.protocol === "TCP" && [443, 50000].includes(packet.sourcePort ?? 0))).toBe(true);
    expect(countPcapPackets(file)).toBe(10);
  });

  it("cuts packets to the snap length and the file to the byte limit at a record boundary", () => {
    const packets = syntheticConversation(
      { protocol: "UDP", localAddress: "10.0.0.4", remoteAddress: "10.0.0.5", localPort: 53, remotePort: 5353 },
      0,
      10,
    );
    const snapped = readPcap(buildPcap(packets, 40));
    expect(snapped.packets.every((packet) => packet.capturedLength === 40 && packet.originalLength > 40)).toBe(true);
    const full = buildPcap(packets, 262144);
    const trimmed = trimPcap(full, full.length - 1);
    expect(trimmed.length).toBeLessThan(full.length);
    expect(countPcapPackets(trimmed)).toBe(1);
    expect(trimPcap(full, 30)).toHaveLength(24);
  });
});

describe("blob locations", () => {
  it("builds Network Watcher's lower-case default path from the creation time (UTC)", () => {
    const name = defaultCaptureBlobName(
      { subscriptionId: "ABCD", resourceGroup: "RG-App", kind: "vm", name: "MyVM" },
      new Date("2025-01-31T16:39:41.077Z"),
    );
    expect(name).toBe("subscriptions/abcd/resourcegroups/rg-app/providers/microsoft.compute/virtualmachines/myvm/2025/01/31/packetcapture_16_39_41_077.cap");
    expect(blobLocationFromUrl(`https://sa.blob.core.windows.net/network-watcher-logs/${name}`)).toEqual({
      container: "network-watcher-logs",
      blobName: name,
    });
    expect(blobLocationFromUrl("https://sa.blob.core.windows.net/onlycontainer")).toBeUndefined();
  });
});

describe("packet-capture schema (copied from the official spec)", () => {
  const target = vmId("rg2", "vm1");
  const storageId = `/subscriptions/${SUB}/resourceGroups/rg2/providers/Microsoft.Storage/storageAccounts/pcstore`;

  it("accepts the official create example and rejects out-of-range values with their path", () => {
    const example = {
      properties: {
        target,
        bytesToCapturePerPacket: 10000,
        totalBytesPerSession: 100000,
        timeLimitInSeconds: 100,
        storageLocation: { storageId, storagePath: "https://mytestaccountname.blob.core.windows.net/capture/pc1.cap", filePath: "D:\\capture\\pc1.cap" },
        filters: [{ protocol: "TCP", localIPAddress: "10.0.0.4", localPort: "80" }],
      },
    };
    expect(schemaProblems("PacketCapture", example)).toEqual([]);
    expect(schemaProblems("PacketCapture", { properties: { ...example.properties, timeLimitInSeconds: 18001 } })).toEqual([
      "properties.timeLimitInSeconds must be <= 18000.",
    ]);
    expect(schemaProblems("PacketCapture", { properties: { target } })).toEqual(["properties.storageLocation is required."]);
    expect(schemaProblems("PacketCapture", { properties: { ...example.properties, captureSettings: { fileCount: 10001 } } })).toEqual([
      "properties.captureSettings.fileCount must be <= 10000.",
    ]);
    expect(schemaProblems("PacketCapture", { properties: { ...example.properties, filters: [{ protocol: "ICMP" }] } })).toEqual([
      "properties.filters[0].protocol must be one of 'TCP', 'UDP', 'Any'.",
    ]);
  });
});
