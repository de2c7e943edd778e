// Capture files in Blob storage. Network Watcher reports where it writes by a blob URL (storageLocation.storagePath):
// a VM capture's one `.cap`, or, for a scale set, a folder holding one `.cap` per instance. We read them with the
// managed identity (a Storage Blob Data role on the capture account), or, on the local stack, through the Azurite
// connection string with the same container and blob path.
//
// storagePath comes from ARM, and whoever may create packet captures can make one with any storagePath, so it is not
// trusted: a path is read only when it lies in the `network-watcher-logs` container of a capture account alertcap is
// configured with (ALERTCAP_CAPTURE_STORAGE_ID), at that account's blob endpoint in the configured cloud (or the
// Azurite endpoint of the local stack). Anything else is refused before any request, so the identity's storage token
// never goes anywhere else.
import { BlobClient, BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import type { Readable } from "node:stream";
import { captureStorageAccountNames } from "../config/appSettings.js";
import { azureCredential } from "./credential.js";
import { blobEndpointOf, captureBlobConnectionString, STORAGE_TOKEN_SCOPE } from "./endpoints.js";

/** Network Watcher's container, in every account and cloud. */
export const CAPTURE_CONTAINER = "network-watcher-logs";

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

/** A storagePath alertcap will not read, and why. Not worth retrying: the path will not change. */
export class StoragePathRefusedError extends Error {
  override readonly name = "StoragePathRefusedError";
}

/** Where a checked storagePath points: the capture container of a configured account, and the blob path in it. */
interface CaptureLocation {
  container: ContainerClient;
  /** Blob name (or folder prefix, without a trailing slash) inside the container. */
  path: string;
}

/** The blob endpoints captures may come from, each with the container client that reads there. */
function allowedEndpoints(): Array<{ base: URL; container: () => ContainerClient }> {
  const connection = captureBlobConnectionString();
  const local = connection ? BlobServiceClient.fromConnectionString(connection) : undefined;
  // Locally every account maps onto the Azurite account of the connection string (as the emulator writes them).
  const reader = (endpoint: string) => () =>
    local ? local.getContainerClient(CAPTURE_CONTAINER) : new ContainerClient(`${endpoint}/${CAPTURE_CONTAINER}`, azureCredential(), { audience: STORAGE_TOKEN_SCOPE });
  const endpoints = captureStorageAccountNames().map((account) => ({ base: new URL(blobEndpointOf(account)), container: reader(blobEndpointOf(account)) }));
  if (local) endpoints.push({ base: new URL(local.url), container: () => local.getContainerClient(CAPTURE_CONTAINER) });
  return endpoints;
}

/** The base's path as segments (Azurite's `/{account}`; empty for a cloud account). */
const segmentsOf = (pathname: string): string[] => pathname.split("/").filter(Boolean);

/**
 * Checks storagePath against the configured capture accounts: same scheme, host and port as one of their blob
 * endpoints, in its `network-watcher-logs` container, no credentials or dot segments. Throws
 * StoragePathRefusedError, having sent nothing, when it is not.
 */
export function checkStoragePath(storagePath: string): CaptureLocation {
  let url: URL;
  try {
    url = new URL(storagePath);
  } catch {
    throw new StoragePathRefusedError(`The capture's storagePath is not a URL ("${storagePath.slice(0, 200)}"), so alertcap does not read it.`);
  }
  const shown = `${url.origin}${url.pathname}`.slice(0, 300);
  const endpoints = allowedEndpoints();
  const endpoint = endpoints.find((e) => e.base.protocol === url.protocol && e.base.host === url.host);
  if (!endpoint || url.username || url.password) {
    throw new StoragePathRefusedError(
      `The capture's storagePath ${shown} is not in a capture storage account alertcap is configured with (${endpoints.map((e) => e.base.origin).join(", ") || "none"}; ALERTCAP_CAPTURE_STORAGE_ID), so alertcap does not read it.`,
    );
  }
  const base = segmentsOf(endpoint.base.pathname);
  let segments: string[];
  try {
    segments = segmentsOf(url.pathname).map(decodeURIComponent);
  } catch {
    throw new StoragePathRefusedError(`The capture's storagePath ${shown} is not a well-formed blob URL, so alertcap does not read it.`);
  }
  const [container, ...rest] = segments.slice(base.length);
  // Split again after decoding: an escaped `%2F..%2F` would otherwise climb out of the container.
  const blob = rest.join("/").split("/");
  const inside =
    base.every((segment, i) => segments[i] === segment) &&
    container === CAPTURE_CONTAINER &&
    rest.length > 0 &&
    blob.every((part) => part !== "" && part !== "." && part !== "..");
  if (!inside) {
    throw new StoragePathRefusedError(`The capture's storagePath ${shown} is not in the ${CAPTURE_CONTAINER} container Network Watcher writes to, so alertcap does not read it.`);
  }
  return { container: endpoint.container(), path: blob.join("/") };
}

/** One capture file: a VM's only file (instance null), or one scale-set instance's file under the capture's folder. */
export interface CaptureFile {
  /** Blob name inside the container. */
  blobName: string;
  /** The scale-set instance it holds (its ID when the name shows one), null for a VM capture's single file. */
  instance: string | null;
  sizeBytes: number;
}

/**
 * The instance ID a file's name shows: `{vmss}_{id}_{folder}.cap` (the session folder's name repeated, as reported for
 * Network Watcher's scale-set captures), `{vmss}_{id}.cap` or `…/{id}/….cap`; otherwise the file's own name (without
 * .cap) stands for it. The folder's name ends in digits itself (`packetcapture_HH_MM_SS_mmm`), so it goes first.
 */
function instanceOf(relativeName: string, folderName: string): string {
  let withoutExtension = relativeName.replace(/\.cap$/i, "");
  const folderSuffix = `_${folderName}`.toLowerCase();
  if (withoutExtension.toLowerCase().endsWith(folderSuffix)) withoutExtension = withoutExtension.slice(0, -folderSuffix.length);
  const numbered = /_(\d+)$/.exec(withoutExtension)?.[1] ?? withoutExtension.split("/").find((part) => /^\d+$/.test(part));
  return numbered ?? withoutExtension;
}

const isNotFound = (error: unknown): boolean => (error as { statusCode?: number }).statusCode === 404;

async function blobSize(blob: BlobClient): Promise<number | null> {
  try {
    return (await blob.getProperties()).contentLength ?? 0;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** The `.cap` files under a folder, in name order. */
async function folderFiles(container: ContainerClient, folder: string): Promise<CaptureFile[]> {
  const files: CaptureFile[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: `${folder}/` })) {
    if (!/\.cap$/i.test(blob.name)) continue;
    const relativeName = blob.name.slice(folder.length + 1);
    files.push({ blobName: blob.name, instance: instanceOf(relativeName, folder.split("/").at(-1)!), sizeBytes: blob.properties.contentLength ?? 0 });
  }
  return files.sort((a, b) => a.blobName.localeCompare(b.blobName, "en", { numeric: true }));
}

/**
 * Whether `blobName` is one of the files Network Watcher leaves for a `.cap` storagePath's stem (the path without
 * `.cap`): under the stem as a folder (`{stem}/…`) or beside it (`{stem}_…`, in the same folder).
 */
export function isFileOfStem(blobName: string, stem: string): boolean {
  return blobName.startsWith(`${stem}/`) || (blobName.startsWith(`${stem}_`) && !blobName.includes("/", stem.length));
}

/**
 * The `.cap` files a scale-set capture reported as `{stem}.cap` left per instance: Network Watcher reports an AzureVMSS
 * capture's storagePath ending in `.cap` (Az.Network New-AzNetworkWatcherPacketCaptureV2, example 2) although it
 * writes one file per instance, under the stem as a folder (`{stem}/…`) or beside it (`{stem}_…`).
 */
async function instanceFilesOfCapPath(container: ContainerClient, path: string): Promise<CaptureFile[]> {
  const stem = path.replace(/\.cap$/i, "");
  const inFolder = await folderFiles(container, stem);
  if (inFolder.length > 0) return inFolder;
  const parent = stem.slice(0, stem.lastIndexOf("/") + 1);
  const stemName = stem.slice(parent.length);
  const files: CaptureFile[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: `${stem}_` })) {
    if (!/\.cap$/i.test(blob.name) || !isFileOfStem(blob.name, stem)) continue;
    // `{stem}_{id}.cap`: what follows the stem names the instance.
    files.push({ blobName: blob.name, instance: instanceOf(blob.name.slice(parent.length + stemName.length + 1), ""), sizeBytes: blob.properties.contentLength ?? 0 });
  }
  return files.sort((a, b) => a.blobName.localeCompare(b.blobName, "en", { numeric: true }));
}

/** Whether blobName is one of the files a capture at `path` may have written (see listCaptureFiles). */
function isCaptureFileOf(blobName: string, path: string): boolean {
  if (blobName === path || blobName.startsWith(`${path}/`)) return true;
  if (!/\.cap$/i.test(path)) return false;
  return isFileOfStem(blobName, path.replace(/\.cap$/i, ""));
}

/**
 * The capture's files as they are now: `[]` while nothing is there yet (Network Watcher uploads after the session
 * ends). A path ending in `.cap` is that one file, or when no such blob exists, a scale set's instance files named
 * after it (instanceFilesOfCapPath); any other path is a folder of instance files (a scale set's, or a client-given
 * folder), and a blob of that very name counts as the one file when the folder is empty.
 */
export async function listCaptureFiles(storagePath: string): Promise<CaptureFile[]> {
  const { container, path } = checkStoragePath(storagePath);
  const isCapPath = /\.cap$/i.test(path);
  if (!isCapPath) {
    const files = await folderFiles(container, path);
    if (files.length > 0) return files;
  }
  const size = await blobSize(container.getBlobClient(path));
  if (size !== null) return [{ blobName: path, instance: null, sizeBytes: size }];
  return isCapPath ? instanceFilesOfCapPath(container, path) : [];
}

/** The capture's size (all instance files together for a scale set), or null while it is not there yet. */
export async function captureFileProperties(storagePath: string): Promise<{ sizeBytes: number; files: number } | null> {
  const files = await listCaptureFiles(storagePath);
  if (files.length === 0) return null;
  return { sizeBytes: files.reduce((sum, f) => sum + f.sizeBytes, 0), files: files.length };
}

async function download(blob: BlobClient, shown: string): Promise<Readable> {
  const response = await blob.download();
  if (!response.readableStreamBody) throw new Error(`Blob storage returned no content for ${shown}.`);
  return response.readableStreamBody as Readable;
}

/** Streams one of the files listCaptureFiles found at storagePath: never the whole capture in memory. */
export async function openListedCaptureFile(storagePath: string, file: CaptureFile): Promise<Readable> {
  const { container, path } = checkStoragePath(storagePath);
  if (!isCaptureFileOf(file.blobName, path)) throw new StoragePathRefusedError(`${file.blobName} is not under ${path}.`);
  return download(container.getBlobClient(file.blobName), file.blobName);
}

/**
 * Writes a report next to the capture (`<capture>.report.html`; beside a scale set's folder, not in it) and answers
 * its URL, in the capture's own terms.
 */
export async function writeReportBeside(storagePath: string, html: string): Promise<string> {
  const { container, path } = checkStoragePath(storagePath);
  const client = container.getBlockBlobClient(`${path}.report.html`);
  await client.upload(html, Buffer.byteLength(html), { blobHTTPHeaders: { blobContentType: "text/html; charset=utf-8" } });
  const url = new URL(storagePath);
  url.search = "";
  url.hash = "";
  return `${url.href.replace(/\/+$/, "")}.report.html`;
}

/**
 * Rewrites the report at reportPath (as writeReportBeside answered it) with `change` applied, keeping it HTML; the
 * read and the write are conditional on the same version, so a concurrent writer makes this fail rather than be lost.
 */
export async function rewriteReport(reportPath: string, change: (html: string) => string): Promise<void> {
  const { container, path } = checkStoragePath(reportPath);
  if (!path.endsWith(".report.html")) throw new StoragePathRefusedError(`${path} is not a report alertcap wrote.`);
  const client = container.getBlockBlobClient(path);
  const response = await client.download();
  const chunks: Buffer[] = [];
  for await (const chunk of response.readableStreamBody as Readable) chunks.push(Buffer.from(chunk as Buffer));
  const html = change(Buffer.concat(chunks).toString("utf8"));
  await client.upload(html, Buffer.byteLength(html), {
    blobHTTPHeaders: { blobContentType: "text/html; charset=utf-8" },
    ...(response.etag ? { conditions: { ifMatch: response.etag } } : {}),
  });
}
