// Scale sets in `alertcap diff` and in the workflow's analysis: each instance against its siblings taken together,
// with the same tests as a baseline diff, so the instance that alone went wrong is named with its counts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareSiblings } from "../domain/diff/siblingChanges.js";
import { analyzeIncident } from "../domain/incident/analyzeIncident.js";
import { analyzeInstances, siblingComparison } from "../domain/pcap/analyzeInstances.js";
import { profileCapture } from "../domain/pcap/captureProfile.js";
import { alertcap } from "./support/alertcapCli.js";
import { scenarioCapture, type Scenario } from "./diff.captures.js";

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** Five instances behind one load balancer: instance 3's DNS server answers SERVFAIL to most of its queries. */
const healthy = (servfail: number): Scenario => ({ dnsQueries: 120, dnsServfail: servfail, httpRequests: 100, http5xx: 0 });
const INCIDENT: Record<string, Scenario> = {
  "0": healthy(1),
  "1": healthy(1),
  "2": healthy(0),
  "3": { dnsQueries: 50, dnsServfail: 41, httpRequests: 100, http5xx: 0 },
  "4": healthy(0),
};
const EXPECTED =
  "Instance 3: DNS SERVFAIL answers from DNS server 10.0.0.53: 82 % (41 of 50) vs 0.4 % (2 of 480) on its 4 siblings (Fisher's exact test, p < 0.001).";

const profiles = (instances: Record<string, Scenario>) =>
  Promise.all(Object.entries(instances).map(async ([instance, s]) => ({ instance, profile: await profileCapture(once(scenarioCapture(s)), { topN: 64 }) })));

describe("each instance against its siblings", () => {
  it("names the instance whose failure rate differs, with its counts and its siblings' together", async () => {
    const comparison = compareSiblings(await profiles(INCIDENT));
    expect(comparison.findings).toEqual([EXPECTED]);
    expect(comparison.differences).toHaveLength(1);
    const [difference] = comparison.differences;
    expect(difference!.instance).toBe("3");
    expect(difference!.change.baseline).toEqual({ count: 2, of: 480, rate: 0.004167 });
    expect(difference!.change.incident).toEqual({ count: 41, of: 50, rate: 0.82 });
  });

  it("names nobody when the instances fail alike", async () => {
    const alike = await profiles({ "0": healthy(1), "1": healthy(2), "2": healthy(0), "3": healthy(1) });
    expect(compareSiblings(alike)).toMatchObject({ differences: [], findings: [] });
  });

  it("counts, not percentages: 1 of 2 answers failed is 50 %, and still no finding against 2 of 480", async () => {
    const comparison = compareSiblings(await profiles({ ...INCIDENT, "3": { dnsQueries: 2, dnsServfail: 1, httpRequests: 100, http5xx: 0 } }));
    expect(comparison.findings).toEqual([]);
    // Each of five instances is tested: the level is divided among them.
    expect(comparison.significanceLevel).toBeCloseTo(0.002, 9);
  });

  it("is part of a scale-set analysis (what the analyse activity puts in the summary and the findings)", async () => {
    const analysis = await analyzeInstances(
      Object.entries(INCIDENT).map(([instance, s]) => ({ instance, open: async () => once(scenarioCapture(s)) })),
      { profiles: true },
    );
    const siblings = siblingComparison(analysis);
    expect(siblings.findings).toEqual([EXPECTED]);
    expect(siblings.differenceCount).toBe(1);
  });

  it("is part of a scale set's lookback timeline too (a recorder armed on the scale set)", async () => {
    const result = await analyzeIncident(
      Object.entries(INCIDENT).map(([instance, s]) => ({ part: "forward" as const, instance, label: `vmss_${instance}.cap`, open: async () => once(scenarioCapture(s)) })),
      { alertAt: "2027-01-15T08:00:00Z", lookbackSeconds: 600 },
    );
    expect(siblingComparison({ merged: result.merged, instances: result.instances }).findings).toEqual([EXPECTED]);
  });
});

describe("alertcap diff on scale-set folders", () => {
  let dir = "";
  let baseline = "";
  let incident = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "alertcap-siblings-"));
    // Network Watcher's scale-set naming: each file repeats its own session folder's name, so only the ID matches.
    const write = (folder: string, session: string, instances: Record<string, Scenario>): string => {
      mkdirSync(join(dir, folder));
      for (const [id, s] of Object.entries(instances)) writeFileSync(join(dir, folder, `vmss-api_${id}_${session}.cap`), scenarioCapture(s));
      return join(dir, folder);
    };
    baseline = write("quiet", "packetcapture_09_00_00_000", { "0": healthy(1), "1": healthy(0), "2": healthy(1), "3": healthy(0), "4": healthy(0) });
    incident = write("incident", "packetcapture_10_00_00_000", INCIDENT);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("--siblings FOLDER names the instance that differs", () => {
    const run = alertcap(["diff", "--siblings", incident]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`  - ${EXPECTED}`);
    const json = JSON.parse(alertcap(["diff", "--siblings", incident, "--json"]).stdout) as { instanceNames: string[]; findings: string[] };
    expect(json.instanceNames).toEqual(["0", "1", "2", "3", "4"]);
    expect(json.findings).toEqual([EXPECTED]);
  });

  it("--siblings FILE FILE... compares the files given", () => {
    const files = ["0", "3"].map((id) => join(incident, `vmss-api_${id}_packetcapture_10_00_00_000.cap`));
    const run = alertcap(["diff", "--siblings", ...files, "--json"]);
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as { findings: string[] }).findings[0]).toMatch(/^Instance 3: DNS SERVFAIL answers from DNS server 10\.0\.0\.53: 82 % \(41 of 50\) vs 0\.8 % \(1 of 120\) on its 1 sibling/);
  });

  it("BASELINE-FOLDER INCIDENT-FOLDER: merged, per instance, and against siblings", () => {
    const run = alertcap(["diff", baseline, incident, "--json"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const d = JSON.parse(run.stdout) as {
      findings: string[];
      instances: Array<{ instance: string; rateChangeCount?: number }>;
      siblings: { findings: string[] };
    };
    expect(d.findings[0]).toMatch(/^DNS SERVFAIL answers rose from 0\.3 % \(2 of 600\) to 8\.1 % \(43 of 530\) from DNS server 10\.0\.0\.53/);
    expect(d.findings).toContain(EXPECTED);
    expect(d.findings.some((f) => f.startsWith("Instance 3 against its own baseline: DNS SERVFAIL answers rose from 0 % (0 of 120) to 82 % (41 of 50)"))).toBe(true);
    expect(d.instances.map((i) => [i.instance, i.rateChangeCount])).toEqual([["0", 0], ["1", 0], ["2", 0], ["3", expect.any(Number)], ["4", 0]]);
    expect(d.siblings.findings).toEqual([EXPECTED]);
  });

  it("a folder with no capture files, and --siblings with one file: exit 2 and one line", () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    const run = alertcap(["diff", empty, incident]);
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe(`alertcap diff: ${empty}: no .cap, .pcap or .pcapng files in this folder`);
    const one = alertcap(["diff", "--siblings", join(incident, "vmss-api_0_packetcapture_10_00_00_000.cap")]);
    expect(one.status).toBe(2);
    expect(one.stderr.trim()).toBe("alertcap diff: --siblings needs at least two instance files");
  });
});
