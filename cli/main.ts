// The `alertcap` command line. Each command lives in its own module and is loaded only when used,
// so `alertcap explain-alert` does not pay for the pcap reader and vice versa; the one-line summaries live here so
// that `alertcap --help` loads none of them. Keep this file's imports to none: it starts every command.

type Command = { run: (args: string[]) => Promise<number> };

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  "explain-alert": {
    summary: "what the webhook would do with an alert body (capture, stop, ignore, reject) and why",
    load: async () => (await import("./explainAlert.js")).explainAlert,
  },
  analyze: {
    summary: "triage a pcap/pcapng capture file: counts, talkers, TCP health, findings (--json, --html OUT)",
    load: async () => (await import("./analyze.js")).analyze,
  },
  diff: {
    summary: "what changed between a baseline capture and an incident capture (--json, --html OUT)",
    load: async () => (await import("./diff.js")).diff,
  },
  recorder: {
    summary: "arm, disarm or list flight recorders (continuous capture kept before alerts) on VMs and scale sets",
    load: async () => (await import("./recorder.js")).recorder,
  },
  "setup-alert": {
    summary: "create the action group and metric alert rules that call the alertcap webhook",
    load: async () => (await import("./setupAlert.js")).setupAlert,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    "usage: alertcap <command> [args]        alertcap <command> --help explains a command's options",
    "",
    "commands:",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "  --version, -v  print alertcap's version",
    "  --help, -h     this text",
  ].join("\n");
}

function version(): string {
  // dist/cli/main.js → the repository's package.json, two folders up.
  const { readFileSync } = process.getBuiltinModule("node:fs");
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    (name ? console.log : console.error)(usage());
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-v") {
    console.log(version());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`alertcap: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

process.exitCode = await main(process.argv.slice(2));
