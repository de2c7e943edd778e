/**
 * The start of every file command: `--help`/`-h` prints the usage (exit 0), arguments that do not parse print the
 * reason and the usage (exit 2); otherwise the parsed arguments.
 */
export function argumentsOrExit<T>(command: string, usage: string, args: string[], parse: (args: string[]) => T | string): T | number {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    return 0;
  }
  const parsed = parse(args);
  if (typeof parsed === "string") {
    console.error(`alertcap ${command}: ${parsed}\n${usage}`);
    return 2;
  }
  return parsed;
}
