import { describe, expect, it } from "vitest";
import { CliError } from "./cli-error.js";
import { COMMANDS } from "./commands.js";
import { parseCommandLine } from "./parse.js";

const parse = (line: string) => parseCommandLine(line.split(" ").filter(Boolean), COMMANDS);

function usageMessage(line: string): string {
  try {
    parse(line);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).usage).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`'${line}' parsed`);
}

describe("the owner CLI's command line", () => {
  it("finds the command by its words and gives its arguments and options, globals included", () => {
    const parsed = parse("jobs create spec.json --weights w.bin --url http://cp:8787 --json");
    expect(parsed.kind).toBe("run");
    if (parsed.kind !== "run") return;
    expect(parsed.command.path).toEqual(["jobs", "create"]);
    expect(parsed.args).toEqual(["spec.json"]);
    expect(parsed.options).toMatchObject({ weights: "w.bin", url: "http://cp:8787", json: true });
  });

  it("takes options before and after the arguments", () => {
    const parsed = parse("jobs demand --json job_abcdefgh 4");
    expect(parsed.kind === "run" && [parsed.args, parsed.options.json]).toEqual([["job_abcdefgh", "4"], true]);
  });

  it("has --help on every command, naming its arguments and its own and the global options", () => {
    for (const command of COMMANDS) {
      const parsed = parse(`${command.path.join(" ")} --help`);
      expect(parsed.kind).toBe("help");
      if (parsed.kind !== "help") continue;
      expect(parsed.text).toContain(`Usage: propius ${[...command.path, ...command.args].join(" ")} [options]`);
      for (const name of [...Object.keys(command.options), "url", "json", "help"]) expect(parsed.text).toContain(`--${name}`);
    }
  });

  it("lists the commands for no command, `help`, `--help` and a group's name alone", () => {
    for (const line of ["", "help", "--help", "-h"]) {
      const parsed = parse(line);
      expect(parsed.kind === "help" && COMMANDS.every((c) => parsed.text.includes(c.path.join(" ")))).toBe(true);
    }
    const named = parse("help jobs show");
    expect(named.kind === "help" && named.text).toMatch(/^Usage: propius jobs show <id> \[options\]/);
    const jobs = parse("jobs");
    expect(jobs.kind === "help" && jobs.text).toContain("jobs download <id> <dir>");
    expect(jobs.kind === "help" && jobs.text).not.toContain("tenants create");
  });

  it("refuses an unknown command, an unknown option and a missing or extra argument, as usage errors", () => {
    expect(usageMessage("--url http://cp:8787 jobs ls")).toBe("the command comes first, then its options: propius <command> --url http://cp:8787 jobs ls");
    expect(usageMessage("jobs frob")).toMatch(/^'jobs frob' is not a command/);
    expect(usageMessage("jobs ls --bogus")).toBe("jobs ls: Unknown option '--bogus'");
    expect(usageMessage("jobs show")).toMatch(/^jobs show takes <id>: <id> is missing/);
    expect(usageMessage("jobs demand job_abcdefgh 3 4")).toMatch(/^jobs demand takes <id> <n>: '4' is one too many/);
    expect(usageMessage("jobs create spec.json --weights")).toMatch(/^jobs create: Option '--weights <value>' argument missing/);
  });
});
