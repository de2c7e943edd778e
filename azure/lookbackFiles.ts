// A recorder's ring files in Blob storage, and what it secures for an incident: server-side copies of the ring files
// into the incident's folder (same account, same `network-watcher-logs` container) and the lookback.json manifest
// beside them. Every path goes through checkStoragePath first, like every capture file alertcap reads: a
// storagePath from ARM or from durable state is not trusted to point anywhere but a configured capture account.
import type { ContainerClient } from "@azure/storage-blob";
import type { RingFile } from "../domain/recorder/lookback.js";
import { incidentFolder, LOOKBACK_MANIFEST, type LookbackManifest } from "../domain/recorder/plan.js";
import { checkStoragePath, isFileOfStem, StoragePathRefusedError } from "./captureFiles.js";

/**
 * Blob metadata a ring file may carry with its close time. Network Watcher's real uploads are not documented to carry
 * one (their last-modified time is the close time); the local emulator writes it when it runs on a virtual clock,
 * where last-modified is wall-clock time.
 */
const CLOSED_AT_METADATA = "closedat";

/** The folder (blob-name prefix, no trailing slash) a storagePath names: a continuous session's storagePath is one. */
const folderOf = (path: string): string => path.replace(/\.cap$/i, "").replace(/\/+$/, "");

/**
 * Whether `blobName` is a ring file of the session whose storagePath names `stem` (without `.cap`): under it as a
 * folder (`{stem}/…`), beside it (`{stem}_….cap`, how Network Watcher leaves a scale set's one-off files when it
 * reports a `.cap` storagePath: see listCaptureFiles), or the `.cap` blob itself. Continuous capture's names are not
 * documented, so any of these counts.
 */
export function isRingFileOf(blobName: string, stem: string): boolean {
  if (!/\.cap$/i.test(blobName)) return false;
  return blobName === `${stem}.cap` || isFileOfStem(blobName, stem);
}

/** A ring file's name below its session's stem, as it is copied into an incident's folder. */
export function ringFileRelativeName(blobName: string, stem: string): string {
  return blobName.startsWith(`${stem}/`) ? blobName.slice(stem.length + 1) : blobName.split("/").at(-1)!;
}

/** The `.cap` files of a session's storagePath (see isRingFileOf), with when each was closed. */
export async function listRingFiles(storagePath: string, session: string): Promise<RingFile[]> {
  const { container, path } = checkStoragePath(storagePath);
  const folder = folderOf(path);
  const files: RingFile[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: folder, includeMetadata: true })) {
    if (!isRingFileOf(blob.name, folder)) continue;
    const relative = blob.name.startsWith(`${folder}/`) ? blob.name.slice(folder.length + 1).split("/") : [];
    // Metadata names are case-insensitive in Blob storage (the SDK hands them back as the service spells them).
    const metadataClose = Object.entries(blob.metadata ?? {}).find(([name]) => name.toLowerCase() === CLOSED_AT_METADATA)?.[1];
    const closedAt = metadataClose && !Number.isNaN(Date.parse(metadataClose)) ? new Date(metadataClose) : blob.properties.lastModified;
    files.push({
      blobName: blob.name,
      session,
      // A scale set's ring keeps one subfolder per instance (files beside the stem do not say which instance is which).
      instance: relative.length > 1 ? relative[0]! : null,
      sizeBytes: blob.properties.contentLength ?? 0,
      closedAt: closedAt.toISOString(),
    });
  }
  return files;
}

/** The container a storagePath lies in (checked), to copy and write in the same account. */
export function captureContainerOf(storagePath: string): ContainerClient {
  return checkStoragePath(storagePath).container;
}

const COPY_WAIT_MS = 60_000;

/**
 * Copies `blobName` to `destination` inside the same container, server-side (Copy Blob: within one account the
 * request's own authorization reads the source, no SAS needed). Answers the copy's URL, or null when the source is
 * gone (the ring deleted it).
 */
export async function copyWithinContainer(container: ContainerClient, blobName: string, destination: string): Promise<string | null> {
  const source = container.getBlobClient(blobName);
  const target = container.getBlobClient(destination);
  try {
    const poller = await target.beginCopyFromURL(source.url, { intervalInMs: 200, abortSignal: AbortSignal.timeout(COPY_WAIT_MS) });
    await poller.pollUntilDone();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
  return target.url;
}

/** Another run of the same step rewrote the manifest between this run's read and its write. */
export class ManifestChangedError extends Error {}

/**
 * Writes (or rewrites) lookback.json in the incident folder and answers its URL. With `readEtag` (the version this
 * write builds on, null for none) the write only lands on that version: an activity runs at least once, and a
 * duplicate run that read the same version must not overwrite what another wrote since (ManifestChangedError).
 */
export async function writeLookbackManifest(container: ContainerClient, folder: string, manifest: LookbackManifest, readEtag?: string | null): Promise<string> {
  const text = JSON.stringify(manifest, null, 2);
  const blob = container.getBlockBlobClient(`${folder}/${LOOKBACK_MANIFEST}`);
  const conditions = readEtag === undefined ? undefined : readEtag === null ? { ifNoneMatch: "*" } : { ifMatch: readEtag };
  try {
    await blob.upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: "application/json" }, ...(conditions ? { conditions } : {}) });
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (conditions && (status === 412 || status === 409)) throw new ManifestChangedError(`${LOOKBACK_MANIFEST} of ${folder} was rewritten by another run meanwhile.`);
    throw error;
  }
  return blob.url;
}

/**
 * Where a recorder writes an incident's lookback.json: in the same account and container as the capture at
 * `captureStoragePath` (both use the region's capture account), under incidentFolder(incidentId, firedAt).
 */
export function lookbackManifestUrl(captureStoragePath: string, incidentId: string, firedAt: string): string {
  const stamp = Number.isNaN(Date.parse(firedAt)) ? firedAt : new Date(firedAt).toISOString();
  return captureContainerOf(captureStoragePath).getBlobClient(`${incidentFolder(incidentId, stamp)}/${LOOKBACK_MANIFEST}`).url;
}

/** The manifest at `manifestUrl` (checked like every capture path), or null while there is none. */
export async function readLookbackManifest(manifestUrl: string): Promise<LookbackManifest | null> {
  const read = await readLookbackManifestVersion(manifestUrl);
  if (!read) return null;
  if (read.manifest === undefined) throw new SyntaxError(`${LOOKBACK_MANIFEST} is not JSON.`);
  return read.manifest as LookbackManifest;
}

/**
 * The manifest as stored (unchecked: see parseLookbackManifest; undefined when it is not JSON) and the version (ETag)
 * read, for a write that must build on it; null while there is none.
 */
export async function readLookbackManifestVersion(manifestUrl: string): Promise<{ manifest: unknown; etag: string } | null> {
  const { container, path } = checkStoragePath(manifestUrl);
  if (!path.endsWith(`/${LOOKBACK_MANIFEST}`)) throw new StoragePathRefusedError(`${path} is not a ${LOOKBACK_MANIFEST} alertcap writes.`);
  try {
    const response = await container.getBlobClient(path).download();
    const chunks: Buffer[] = [];
    for await (const chunk of response.readableStreamBody as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
    let manifest: unknown;
    try {
      manifest = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      manifest = undefined;
    }
    return { manifest, etag: response.etag ?? "" };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}
