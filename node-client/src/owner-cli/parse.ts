import { parseArgs } from "node:util";
import { GLOBAL_OPTIONS, type Command, type OptionSpec, type OptionValues } from "./command.js";
import { usageError } from "./cli-error.js";

export type Parsed =
  | { kind: "help"; text: string }
  | { kind: "run"; command: Command; args: string[]; options: OptionValues };

/**
 * Finds the command `argv` names (its words come first: `jobs show <id> --json`) and parses its
 * arguments and options, strictly: an unknown option, a missing or extra argument is a usage
 * error. `--help` anywhere, or a group's name alone (`jobs`), asks for help instead.
 */
export function parseCommandLine(argv: string[], commands: Command[]): Parsed {
  const words: string[] = [];
  for (const token of argv) {
    if (token.startsWith("-")) break;
    words.push(token);
  }
  const wantsHelp = argv.includes("--help") || argv.includes("-h") || words[0] === "help";
  if (words[0] === "help") {
    const named = longestMatch(words.slice(1), commands);
    if (named) return { kind: "help", text: commandHelp(named) };
  }
  if (words.length === 0 && argv.length > 0 && !wantsHelp) throw usageError(`the command comes first, then its options: propius <command> ${argv.join(" ")}`);
  const command = longestMatch(words, commands);
  if (!command) {
    const group = words[0] === "help" ? words.slice(1) : words;
    const under = commands.filter((c) => group.every((w, i) => c.path[i] === w));
    if (wantsHelp || words.length === 0 || (under.length > 0 && group.length > 0)) return { kind: "help", text: overview(under.length > 0 ? under : commands) };
    throw usageError(`'${words.join(" ")}' is not a command`);
  }
  if (wantsHelp) return { kind: "help", text: commandHelp(command) };
  const specs = { ...command.options, ...GLOBAL_OPTIONS };
  let parsed;
  try {
    parsed = parseArgs({ args: argv.slice(command.path.length), options: toParseArgs(specs), allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(`${command.path.join(" ")}: ${(error as Error).message.split(". To specify")[0]}`);
  }
  const args = parsed.positionals;
  if (args.length !== command.args.length) {
    const missing = args.length < command.args.length;
    throw usageError(`${command.path.join(" ")} takes ${command.args.length ? command.args.join(" ") : "no arguments"}: ${missing ? `${command.args[args.length]} is missing` : `'${args[command.args.length]}' is one too many`}`);
  }
  return { kind: "run", command, args, options: parsed.values as OptionValues };
}

function longestMatch(words: string[], commands: Command[]): Command | undefined {
  return commands
    .filter((c) => c.path.length <= words.length && c.path.every((w, i) => words[i] === w))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

function toParseArgs(specs: Record<string, OptionSpec>) {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, spec.short ? { type: spec.type, short: spec.short } : { type: spec.type }]));
}

const usageLine = (c: Command) => ["propius", ...c.path, ...c.args, "[options]"].join(" ");

function optionLines(specs: Record<string, OptionSpec>): string[] {
  const left = Object.entries(specs).map(([name, spec]) => `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.type === "string" ? ` <${spec.value ?? "value"}>` : ""}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return Object.values(specs).map((spec, i) => `  ${left[i].padEnd(width)}${spec.help}`);
}

/** The help of one command: usage, what it does, its options and the global ones. */
export function commandHelp(command: Command): string {
  const lines = [`Usage: ${usageLine(command)}`, "", command.summary];
  if (Object.keys(command.options).length > 0) lines.push("", "Options:", ...optionLines(command.options));
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS));
  if (command.details) lines.push("", command.details.trimEnd());
  return `${lines.join("\n")}\n`;
}

/** The list of commands, with a line each. */
export function overview(commands: Command[]): string {
  const left = commands.map((c) => [...c.path, ...c.args].join(" "));
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return [
    "propius: the job owner's CLI for a Propius Edge control plane",
    "",
    "Usage: propius <command> [arguments] [options]",
    "",
    "Commands:",
    ...commands.map((c, i) => `  ${left[i].padEnd(width)}${c.summary.split("\n")[0]}`),
    "",
    "`propius <command> --help` tells more of each. Exit codes: 0 done, 1 refused by the control plane",
    "or failed (the error's code and message are printed), 2 a command line that is not one.",
    "",
  ].join("\n");
}
