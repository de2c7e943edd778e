// The `alertcap` command line. Each command lives in its own module and is loaded only when used,
// so `alertcap explain-alert` does not pay for the pcap reader and vice versa.
type Command = { summary: string; run: (args: string[]) => Promise<number> };

const commands: Record<string, () => Promise<Command>> = {
  "explain-alert": async () => (await import("./explainAlert.js")).explainAlert,
  analyze: async () => (await import("./analyze.js")).analyze,
  "setup-alert": async () => (await import("./setupAlert.js")).setupAlert,
  diff: async () => (await import("./diff.js")).diff,
};

function usage(): string {
  return ["usage: alertcap <command> [args]", "", "commands:", ...Object.keys(commands).map((c) => `  ${c}`)].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`alertcap: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  return (await load()).run(rest);
}

process.exitCode = await main(process.argv.slice(2));
