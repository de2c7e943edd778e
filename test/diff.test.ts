// `alertcap diff` on baseline/incident pairs written as real pcap files: the findings a person reads first, and the
// statistics that decide what is a change and what is noise.
import { describe, expect, it } from "vitest";
import { diffCaptures } from "../domain/diff/captureDiff.js";
import { compareProportions, erfc, fisherExactTwoSided, poissonRateTest, twoProportionZ } from "../domain/diff/statistics.js";
import { profileCapture, type CaptureProfile } from "../domain/pcap/captureProfile.js";
import { scenarioCapture, type Scenario } from "./diff.captures.js";

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

const profile = (s: Scenario): Promise<CaptureProfile> => profileCapture(once(scenarioCapture(s)), { topN: 64 });

describe("significance tests", () => {
  it("match reference values (R's fisher.test and pnorm)", () => {
    // fisher.test(matrix(c(3, 1, 1, 3), 2))$p.value = 0.4857143
    expect(fisherExactTwoSided(3, 4, 1, 4)).toBeCloseTo(0.4857143, 6);
    // fisher.test(matrix(c(0, 10, 5, 5), 2))$p.value = 0.03250774
    expect(fisherExactTwoSided(0, 10, 5, 10)).toBeCloseTo(0.03250774, 6);
    expect(erfc(1)).toBeCloseTo(0.1572992, 6);
    // 2 * pnorm(-2) = 0.04550026: 60 of 100 against 40 of 100 gives z = 2.828, p = 0.00468
    expect(twoProportionZ(40, 100, 60, 100)).toBeCloseTo(0.004677735, 5);
    // binom.test(30, 40, 0.5)$p.value = 0.002221591 (30 events in the second of two equal intervals, 10 in the first)
    expect(poissonRateTest(10, 60, 30, 60)).toBeCloseTo(0.002221591, 6);
  });

  it("takes Fisher's exact test for small counts and the z-test for large ones", () => {
    const small = compareProportions(0, 10, 1, 10);
    expect(small.test).toBe("fisher-exact");
    expect(small.pValue).toBeCloseTo(1, 9);
    const large = compareProportions(3, 812, 190, 903);
    expect(large.test).toBe("two-proportion-z");
    expect(large.pValue).toBeLessThan(1e-30);
  });
});

describe("alertcap diff on capture pairs", () => {
  const clean: Scenario = { dnsQueries: 400, dnsServfail: 0, httpRequests: 812, http5xx: 3 };
  const incident: Scenario = { dnsQueries: 400, dnsServfail: 100, httpRequests: 903, http5xx: 190, newTalker: "203.0.113.7" };

  it("puts SERVFAILs, 5xx and the new talker first, with their counts and the test used", async () => {
    const d = diffCaptures(await profile(clean), await profile(incident));
    expect(d.findings.slice(0, 3)).toEqual([
      "HTTP 5xx responses rose from 0.4 % (3 of 812) to 21 % (190 of 903) for api.contoso.test (two-proportion z-test, p < 0.001).",
      "DNS SERVFAIL answers rose from 0 % (0 of 400) to 25 % (100 of 400) from DNS server 10.0.0.53 (two-proportion z-test, p < 0.001).",
      expect.stringMatching(/^New talker 203\.0\.113\.7: 60 packets, .* not seen in the baseline\.$/),
    ]);
    expect(d.findings[3]).toMatch(/^New service 10\.0\.0\.4 TCP\/22: 20 flows, 60 packets/);
    expect(d.newTalkers.map((t) => t.address)).toEqual(["203.0.113.7"]);
    expect(d.goneTalkers).toEqual([]);
    expect(d.newServices.map((s) => s.service)).toEqual(["10.0.0.4 TCP/22"]);
    expect(d.rateChanges.find((c) => c.layer === "HTTP" && c.metric === "5xx responses" && c.scope === "api.contoso.test")).toMatchObject({
      baseline: { count: 3, of: 812 },
      incident: { count: 190, of: 903 },
      change: "rose",
      test: "two-proportion-z",
      significant: true,
    });
  });

  it("reports refused and unanswered SYNs, retransmissions and TLS handshake failures with their counts", async () => {
    const quiet: Scenario = { dnsQueries: 100, dnsServfail: 0, httpRequests: 400, http5xx: 0, httpRetransmitted: 2, tlsHandshakes: 200, tlsFailed: 1 };
    const failing: Scenario = { ...quiet, httpRefused: 50, httpUnanswered: 30, httpRetransmitted: 80, tlsFailed: 80 };
    const d = diffCaptures(await profile(quiet), await profile(failing));
    expect(d.findings).toEqual([
      // 80 responses sent twice and 30 SYNs retried
      "TCP retransmitted segments rose from 0.05 % (2 of 3,802) to 3.2 % (110 of 3,480) (two-proportion z-test, p < 0.001).",
      "TLS handshakes without a ServerHello rose from 0.5 % (1 of 200) to 40 % (80 of 200) for login.contoso.test (two-proportion z-test, p < 0.001).",
      "TLS handshake_failure alerts rose from 0.5 % (1 of 200) to 40 % (80 of 200) (two-proportion z-test, p < 0.001).",
      "TCP connection attempts refused (RST) rose from 0 % (0 of 400) to 13 % (50 of 400) at 10.0.0.80 TCP/80 (two-proportion z-test, p < 0.001).",
      "TCP connection attempts unanswered rose from 0 % (0 of 400) to 7.5 % (30 of 400) at 10.0.0.80 TCP/80 (two-proportion z-test, p < 0.001).",
    ]);
  });

  it("sums a scan's unanswered SYNs over the new services in one sentence, and keeps the lists bounded", async () => {
    const d = diffCaptures(await profile(clean), await profile({ ...clean, scanPorts: 3000 }));
    expect(d.findings[0]).toBe(
      "TCP connection attempts unanswered rose from 0 % (0 of 812) to 79 % (3,000 of 3,812) (two-proportion z-test, p < 0.001); 3,000 of them at 3,000 services the baseline did not have.",
    );
    expect(d.newServiceCount).toBe(3000);
    expect(d.newServices).toHaveLength(100);
    expect(d.rateChangeCount).toBeGreaterThan(3000);
    expect(d.rateChanges).toHaveLength(500);
    expect(d.rateChanges[0]!.significant).toBe(true);
  });

  it("finds no significant change between identical captures", async () => {
    const d = diffCaptures(await profile(incident), await profile(incident));
    expect(d.newTalkers).toEqual([]);
    expect(d.goneTalkers).toEqual([]);
    expect(d.newServices).toEqual([]);
    expect(d.rateChanges.filter((c) => c.significant)).toEqual([]);
    expect(d.volumeShifts.filter((v) => v.significant)).toEqual([]);
    expect(d.findings).toHaveLength(1);
    expect(d.findings[0]).toMatch(/^No significant change/);
  });

  it("does not call 1 failure of 10 against 0 of 10 a change", async () => {
    const d = diffCaptures(
      await profile({ dnsQueries: 10, dnsServfail: 0, httpRequests: 10, http5xx: 0 }),
      await profile({ dnsQueries: 10, dnsServfail: 1, httpRequests: 10, http5xx: 1 }),
    );
    const http = d.rateChanges.find((c) => c.layer === "HTTP" && c.metric === "5xx responses" && c.scope === "api.contoso.test");
    expect(http).toMatchObject({ baseline: { count: 0, of: 10 }, incident: { count: 1, of: 10 }, test: "fisher-exact", pValue: 1, significant: false });
    expect(d.rateChanges.filter((c) => c.significant)).toEqual([]);
    expect(d.findings.join(" ")).not.toMatch(/5xx|SERVFAIL/);
  });

  it("reports a service whose traffic rate rose, over each capture's own duration", async () => {
    // Same requests per capture, but the incident packs them into a tenth of the time: ten times the rate.
    const d = diffCaptures(await profile({ ...clean, seconds: 100 }), await profile({ ...clean, seconds: 10 }));
    const web = d.volumeShifts.find((v) => v.service === "10.0.0.80 TCP/80");
    expect(web?.significant).toBe(true);
    expect(web!.ratio).toBeGreaterThan(9);
    expect(d.findings.some((f) => f.startsWith("Traffic of 10.0.0.80 TCP/80 rose"))).toBe(true);
    expect(d.rateChanges.filter((c) => c.significant)).toEqual([]);
  });
});
