// Where Network Watcher puts a capture file, and the upload of the recorded file to Blob storage (Azurite locally).
//
// Default location, from the recordings and docs (all lower case, UTC, creation time of the capture):
//   https://{account}.blob.core.windows.net/network-watcher-logs/subscriptions/{sub}/resourcegroups/{rg}/providers/
//     microsoft.compute/virtualmachines/{vm}/{yyyy}/{MM}/{dd}/packetcapture_{HH}_{mm}_{ss}_{fff}.cap
// Locally every account maps onto the one Azurite account of the connection string: same container, same blob name.

import type { BlobServiceClient } from "@azure/storage-blob";

export const CAPTURE_CONTAINER = "network-watcher-logs";

export interface BlobLocation {
  container: string;
  blobName: string;
}

export interface CaptureTargetPath {
  subscriptionId: string;
  resourceGroup: string;
  kind: "vm" | "vmss";
  name: string;
}

/** `https://{account}.blob.core.windows.net/` unless the inventory gives the account another endpoint. */
export function blobEndpointFor(accountName: string, declaredEndpoint: string | undefined): string {
  const endpoint = declaredEndpoint ?? `https://${accountName.toLowerCase()}.blob.core.windows.net/`;
  return endpoint.endsWith("/") ? endpoint : `${endpoint}/`;
}

/** `packetcapture_{HH}_{mm}_{ss}_{fff}` and the `{yyyy}/{MM}/{dd}` folder of a UTC time. */
function timeParts(createdAt: Date) {
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  return {
    folder: `${createdAt.getUTCFullYear()}/${pad(createdAt.getUTCMonth() + 1)}/${pad(createdAt.getUTCDate())}`,
    file: `packetcapture_${pad(createdAt.getUTCHours())}_${pad(createdAt.getUTCMinutes())}_${pad(createdAt.getUTCSeconds())}_${pad(createdAt.getUTCMilliseconds(), 3)}`,
  };
}

/**
 * The default blob name (inside `network-watcher-logs`) of a capture.
 * VM: `.../virtualmachines/{vm}/{date}/packetcapture_{time}.cap`.
 * Scale set: `.../virtualmachinescalesets/{vmss}/{date}/packetcapture_{time}` — a folder holding one file per
 * instance (the 2022 VMSS doc shows this prefix without `.cap`; what lies below it is not documented).
 */
export function defaultCaptureBlobName(target: CaptureTargetPath, createdAt: Date): string {
  const { folder, file } = timeParts(createdAt);
  const type = target.kind === "vm" ? "virtualmachines" : "virtualmachinescalesets";
  const prefix = `subscriptions/${target.subscriptionId}/resourcegroups/${target.resourceGroup}/providers/microsoft.compute/${type}/${target.name}`;
  return `${prefix}/${folder}/${file}${target.kind === "vm" ? ".cap" : ""}`.toLowerCase();
}

/**
 * Blob name of one scale-set instance's file in the capture's folder: `{folder}/{instance name}_{folder name}.cap`,
 * the instance name being `{vmss}_{instanceId}`. [user] kevoreilly/CAPEv2#2229 saw Network Watcher write
 * `…/Packet_Capture_{id}/{machine_name}_Packet_Capture_{id}` for a scale set; the `.cap` suffix is assumed.
 */
export function scaleSetInstanceBlobName(captureFolder: string, scaleSetName: string, instanceId: string): string {
  const folderName = captureFolder.split("/").pop() ?? "";
  return `${captureFolder}/${scaleSetName}_${instanceId}_${folderName}.cap`.toLowerCase();
}

/** Container and blob of an `https://account.blob.../container/blob/path` URL (a client-given `storagePath`). */
export function blobLocationFromUrl(url: string): BlobLocation | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const [container, ...rest] = parsed.pathname.replace(/^\/+/, "").split("/");
  if (!container || rest.length === 0 || rest.every((part) => part === "")) return undefined;
  return { container: decodeURIComponent(container), blobName: rest.map(decodeURIComponent).join("/") };
}

export class CaptureUploader {
  private service: Promise<BlobServiceClient> | undefined;
  private readonly containersReady = new Map<string, Promise<unknown>>();

  constructor(private readonly connectionString: string | undefined) {}

  get enabled(): boolean {
    return this.connectionString !== undefined && this.connectionString !== "";
  }

  /** Uploads a local file (with blob metadata, if given); returns the URL the blob has in the (local) storage account. */
  async upload(location: BlobLocation, localPath: string, metadata?: Record<string, string>): Promise<string> {
    const service = await this.client();
    const container = service.getContainerClient(location.container);
    let ready = this.containersReady.get(location.container);
    if (!ready) {
      ready = container.createIfNotExists().catch((error: unknown) => {
        // Let the next upload try again (Azurite may have been restarted).
        this.containersReady.delete(location.container);
        throw error;
      });
      this.containersReady.set(location.container, ready);
    }
    await ready;
    const blob = container.getBlockBlobClient(location.blobName);
    await blob.uploadFile(localPath, {
      blobHTTPHeaders: { blobContentType: "application/octet-stream" },
      ...(metadata !== undefined && { metadata }),
    });
    return blob.url;
  }

  /** Deletes a blob (a continuous capture's oldest ring file); one already gone is fine. */
  async delete(location: BlobLocation): Promise<void> {
    const service = await this.client();
    await service.getContainerClient(location.container).getBlobClient(location.blobName).deleteIfExists();
  }

  private client(): Promise<BlobServiceClient> {
    if (!this.enabled || this.connectionString === undefined) return Promise.reject(new Error("no blob connection string configured"));
    const connectionString = this.connectionString;
    // The storage SDK is only loaded when captures are uploaded (it is slow to import).
    this.service ??= import("@azure/storage-blob").then(({ BlobServiceClient }) => BlobServiceClient.fromConnectionString(connectionString));
    return this.service;
  }
}
