// The emulator's TLS certificate: self-signed for IP 127.0.0.1 and DNS localhost, written as PEM so clients can
// trust it (the Azure SDK refuses bearer tokens over plain http, so the emulator must speak HTTPS).
//
// A still-valid certificate from an earlier run is reused by default, so a client that trusted it keeps working
// across emulator restarts (e.g. `npm start` stopped and started again with the same data directory).

import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface EmulatorCertificate {
  certPem: string;
  keyPem: string;
  certPath: string;
  keyPath: string;
}

const ONE_DAY_MS = 24 * 3600 * 1000;

export async function loadOrCreateCertificate(
  certPath: string,
  keyPath: string,
  reuse: boolean,
): Promise<EmulatorCertificate> {
  if (reuse) {
    const existing = reusableCertificate(certPath, keyPath);
    if (existing) return existing;
  }
  const notBeforeDate = new Date(Date.now() - 3600_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * ONE_DAY_MS);
  // Loaded only when a certificate must be made: the library takes half a second to import.
  const { generate } = await import("selfsigned");
  const pems = await generate([{ name: "commonName", value: "alertcap ARM emulator" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      // CA:TRUE lets the same self-signed certificate serve as its own trust anchor in every TLS stack.
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }, { type: 2, value: "localhost" }] },
    ],
  });
  mkdirSync(dirname(certPath), { recursive: true });
  mkdirSync(dirname(keyPath), { recursive: true });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert);
  return { certPem: pems.cert, keyPem: pems.private, certPath, keyPath };
}

function reusableCertificate(certPath: string, keyPath: string): EmulatorCertificate | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  try {
    const certPem = readFileSync(certPath, "utf8");
    const keyPem = readFileSync(keyPath, "utf8");
    const certificate = new X509Certificate(certPem);
    const validLongEnough = new Date(certificate.validTo).getTime() > Date.now() + ONE_DAY_MS;
    const coversLoopback = certificate.checkIP("127.0.0.1") !== undefined && certificate.checkHost("localhost") !== undefined;
    if (!validLongEnough || !coversLoopback || !certificate.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    return { certPem, keyPem, certPath, keyPath };
  } catch {
    return undefined;
  }
}
