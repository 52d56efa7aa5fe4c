import { PropiusError } from "@propius/shared";
import { UnreachableError } from "@propius/edge-runtime";
import { CliError } from "./cli-error.js";
import { COMMANDS } from "./commands.js";
import { Context, type CliIo } from "./context.js";
import { parseCommandLine } from "./parse.js";

/** Exit codes: done, refused or failed, a command line that is not one. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Runs the owner CLI on `argv` (the arguments after `propius`) and resolves with its exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const json = argv.includes("--json");
  try {
    const parsed = parseCommandLine(argv, COMMANDS);
    if (parsed.kind === "help") {
      io.stdout(parsed.text);
      return EXIT.ok;
    }
    await parsed.command.run(new Context(io, parsed.options), parsed.args, parsed.options);
    return EXIT.ok;
  } catch (error) {
    io.stderr(json ? `${JSON.stringify(errorBody(error))}\n` : `propius: ${describe(error)}\n`);
    return error instanceof CliError && error.usage ? EXIT.usage : EXIT.failed;
  }
}

/** An error as one or more lines: an API error by its code and message, each field a validation names on a line of its own. */
export function describe(error: unknown): string {
  if (error instanceof PropiusError) {
    const issues = (error.details as { issues?: { path: string; message: string }[] } | undefined)?.issues;
    const more = Array.isArray(issues) && issues.length > 1 ? issues.map((i) => `\n  ${i.path || "(spec)"}: ${i.message}`).join("") : "";
    return `${error.code}: ${error.message}${more}`;
  }
  if (error instanceof CliError && error.usage) return `${error.message}\n(propius --help lists the commands; propius <command> --help tells what each takes)`;
  return error instanceof Error ? error.message : String(error);
}

/** `--json`'s error: the API's own body, or one of the same shape (`unreachable` with the URL, `usage`, `failed`). */
export function errorBody(error: unknown): { error: { code: string; message: string; details?: unknown }; status?: number } {
  if (error instanceof PropiusError) return { ...error.toBody(), status: error.status };
  if (error instanceof UnreachableError) return { error: { code: "unreachable", message: error.message, details: { url: error.url, reason: error.reason, attempts: error.attempts } } };
  if (error instanceof CliError) return { error: { code: error.usage ? "usage" : "failed", message: error.message } };
  return { error: { code: "failed", message: error instanceof Error ? error.message : String(error) } };
}
