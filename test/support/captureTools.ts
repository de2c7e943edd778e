// What this machine can do for capture tests: record on loopback with tcpdump, decode with tshark.
import { spawnSync } from "node:child_process";

/** tcpdump can record here if it starts listening on loopback (root or CAP_NET_RAW); otherwise files are synthetic. */
export const tcpdumpRecords = (() => {
  const probe = spawnSync("tcpdump", ["-i", "lo", "-w", "/dev/null", "tcp port 9"], { timeout: 1500, encoding: "utf8" });
  return /listening on/.test(probe.stderr ?? "");
})();

export const tsharkAvailable = spawnSync("tshark", ["--version"]).status === 0;
