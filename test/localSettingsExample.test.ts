// `func start` beside `npm run start:emulators`: local.settings.json.example names every app setting the local stack
// gives the app, and those settings, as the emulators script prints them, start the app against the emulators: it
// accepts the sample alert and creates a capture in the ARM emulator. (Core Tools themselves cannot run here: the
// local host loads the app with the example's Values as its environment instead.)
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { rawArmRequest } from "../local/arm-emulator/testing/rawArmRequest.js";
import { until } from "../local/arm-emulator/testing/waiting.js";
import { type Service, startFunctionsHost } from "../local/services.js";
import { localAppSettings, SAMPLE_CAPTURE_SETTINGS } from "../local/stack.js";
import { freePort } from "./support/freePort.js";

const REPOSITORY = fileURLToPath(new URL("../../", import.meta.url));
const example = JSON.parse(readFileSync(join(REPOSITORY, "local.settings.json.example"), "utf8")) as { IsEncrypted: boolean; Values: Record<string, string> };
const dataDir = mkdtempSync(join(tmpdir(), "alertcap-emulators-"));
let emulators: ChildProcess | undefined;
let host: Service | undefined;

afterAll(async () => {
  await host?.stop();
  if (emulators && emulators.exitCode === null) {
    const exited = new Promise((resolve) => emulators!.once("exit", resolve));
    emulators.kill("SIGINT");
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

it("names every setting the local stack gives the app, with the same values, and what Core Tools needs", () => {
  const stackSettings = localAppSettings({ armUrl: "arm", armCaCertPath: "cert", blobConnectionString: "blob" }, SAMPLE_CAPTURE_SETTINGS);
  for (const [name, value] of Object.entries(stackSettings)) {
    expect(example.Values, name).toHaveProperty(name);
    if (!["arm", "cert", "blob"].includes(value!)) expect(example.Values[name], name).toBe(value);
  }
  expect(example.IsEncrypted).toBe(false);
  expect(example.Values.FUNCTIONS_WORKER_RUNTIME).toBe("node");
  // The Durable extension's Azure Storage backend on Azurite's default ports (Blob, Queue, Table).
  expect(example.Values.AzureWebJobsStorage).toBe("UseDevelopmentStorage=true");
  // Azure Storage task hub names: 3-45 letters and digits, starting with a letter.
  expect(example.Values.ALERTCAP_TASK_HUB).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/);
  expect(readFileSync(join(REPOSITORY, "host.json"), "utf8")).toContain('"hubName": "%ALERTCAP_TASK_HUB%"');
  expect(example.Values.ALERTCAP_ARM_ENDPOINT).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(example.Values.ALERTCAP_CAPTURE_BLOB_CONNECTION).toContain("BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;");
});

it("VS Code's F5 attaches to func start, which builds and starts the emulators first", () => {
  const read = (name: string) => JSON.parse(readFileSync(join(REPOSITORY, ".vscode", name), "utf8")) as Record<string, unknown>;
  type Task = { label: string; command: string; type: string; dependsOn?: string };
  const tasks = (read("tasks.json").tasks as Task[]) ?? [];
  const byLabel = new Map(tasks.map((task) => [task.label, task]));
  const [attach] = read("launch.json").configurations as { preLaunchTask: string; port: number }[];
  const chain: Task[] = [];
  for (let task = byLabel.get(attach!.preLaunchTask); task; task = task.dependsOn ? byLabel.get(task.dependsOn) : undefined) chain.push(task);
  expect(chain.map((task) => task.command)).toEqual(["host start", "node dist/local/startEmulators.js", "npm run build"]);
  expect(chain[0]!.type).toBe("func");
  const scripts = (JSON.parse(readFileSync(join(REPOSITORY, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  expect(scripts["start:emulators"]).toBe(`${scripts.build} && ${chain[1]!.command}`);
  expect(read("settings.json")["azureFunctions.projectLanguageModel"]).toBe(4);
  expect(read("extensions.json").recommendations).toContain("ms-azuretools.vscode-azurefunctions");
});

it("start:emulators prints the example's settings, and the app run with them captures through the emulators", async () => {
  const [armPort, blobPort, queuePort, tablePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  let output = "";
  emulators = spawn(process.execPath, [join(REPOSITORY, "dist/local/startEmulators.js")], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ALERTCAP_DATA_DIR: dataDir,
      ALERTCAP_ARM_PORT: String(armPort),
      ALERTCAP_AZURITE_PORTS: `${blobPort},${queuePort},${tablePort}`,
      ALERTCAP_EMULATOR_SPEED: "10",
    },
  });
  emulators.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  emulators.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await until(() => /alertcap emulators are up[\s\S]*Ctrl-C/.test(output) || emulators!.exitCode !== null, "the emulators to be up", 60_000);
  expect(output).toContain("alertcap emulators are up");
  const printed = JSON.parse(/\n(\{\n[\s\S]*?\n\})\n/.exec(output)![1]!) as Record<string, string>;

  // The example with this run's ports and data directory is exactly what the script says to use.
  const certPath = join(dataDir, "arm-emulator-cert.pem");
  const values = JSON.parse(
    JSON.stringify(example.Values)
      .replace(new URL(example.Values.ALERTCAP_ARM_ENDPOINT!).host, `127.0.0.1:${armPort}`)
      .replace("127.0.0.1:10000", `127.0.0.1:${blobPort}`)
      .replace(example.Values.ALERTCAP_ARM_CA_CERT!, certPath),
  ) as Record<string, string>;
  expect(values).toEqual(printed);

  host = await startFunctionsHost({ dataDir: join(dataDir, "host"), port: 0, env: values });
  const { functionKey } = JSON.parse(readFileSync(join(dataDir, "host", "host-keys.json"), "utf8")) as { functionKey: string };
  const alert = readFileSync(join(REPOSITORY, "local/samples/alert-vm-web-1-fired.json"), "utf8");
  const accepted = await fetch(`${host.ready[0]}/api/alerts?code=${functionKey}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: alert });
  expect(accepted.status).toBe(202);
  expect(((await accepted.json()) as { decision: string }).decision).toBe("capture");

  const emulator = { url: values.ALERTCAP_ARM_ENDPOINT!, caCertPem: readFileSync(certPath, "utf8") };
  const captures = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_westus2/packetCaptures?api-version=2024-05-01";
  await until(async () => {
    const listed = await rawArmRequest(emulator, { path: captures });
    return ((listed.json as { value?: { properties: { target: string } }[] }).value ?? []).some((c) => /virtualMachines\/vm-web-1$/i.test(c.properties.target));
  }, "the capture on vm-web-1 in the ARM emulator", 60_000);
}, 120_000);
