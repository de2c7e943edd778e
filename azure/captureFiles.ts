// Capture files in Blob storage. Network Watcher reports a file by its blob URL (storageLocation.storagePath); we
// read it with the managed identity (Storage Blob Data Reader on the capture account), or, on the local stack,
// through the Azurite connection string with the same container and blob path.
import { BlobClient, BlobServiceClient } from "@azure/storage-blob";
import type { Readable } from "node:stream";
import { azureCredential } from "./credential.js";
import { captureBlobConnectionString } from "./endpoints.js";

interface BlobLocation {
  container: string;
  blobName: string;
}

/** `https://{account}.blob.core.windows.net/{container}/{blob…}` (also Azurite's `http://host:port/{account}/…`). */
export function parseStoragePath(storagePath: string): BlobLocation {
  const url = new URL(storagePath);
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  // Azurite and other IP-style endpoints put the account name first in the path.
  if (/^(\d+\.\d+\.\d+\.\d+|localhost)$/.test(url.hostname)) parts.shift();
  const [container, ...blob] = parts;
  if (!container || blob.length === 0) throw new Error(`The storage path ${url.origin}${url.pathname} does not name a blob.`);
  return { container, blobName: blob.join("/") };
}

function blobClient(storagePath: string, suffix = ""): BlobClient {
  const connection = captureBlobConnectionString();
  if (connection) {
    const { container, blobName } = parseStoragePath(storagePath);
    return BlobServiceClient.fromConnectionString(connection).getContainerClient(container).getBlobClient(`${blobName}${suffix}`);
  }
  const url = new URL(storagePath);
  url.search = "";
  url.pathname += suffix;
  return new BlobClient(url.href, azureCredential());
}

/** The file's size, or null while it is not there yet (Network Watcher uploads it after the session ends). */
export async function captureFileProperties(storagePath: string): Promise<{ sizeBytes: number } | null> {
  try {
    const properties = await blobClient(storagePath).getProperties();
    return { sizeBytes: properties.contentLength ?? 0 };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}

/** Streams the file: never the whole capture in memory. */
export async function openCaptureFile(storagePath: string): Promise<Readable> {
  const download = await blobClient(storagePath).download();
  if (!download.readableStreamBody) throw new Error(`Blob storage returned no content for ${storagePath}.`);
  return download.readableStreamBody as Readable;
}

/** Writes a report next to the capture (`<capture>.report.html`) and answers its URL, in the capture's own terms. */
export async function writeReportBeside(storagePath: string, html: string): Promise<string> {
  const client = blobClient(storagePath, ".report.html").getBlockBlobClient();
  await client.upload(html, Buffer.byteLength(html), { blobHTTPHeaders: { blobContentType: "text/html; charset=utf-8" } });
  const url = new URL(storagePath);
  url.search = "";
  return `${url.href}.report.html`;
}
