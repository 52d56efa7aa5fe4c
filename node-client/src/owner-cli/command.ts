import type { Context } from "./context.js";

/** An option of a command: a flag (`boolean`) or one that takes a value (`string`, its placeholder in `value`). */
export interface OptionSpec {
  type: "string" | "boolean";
  value?: string;
  short?: string;
  help: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

/** One command of the owner CLI: its words, arguments, options, help and what it does. */
export interface Command {
  /** The words that name it, for example `["jobs", "create"]`. */
  path: string[];
  /** Its positional arguments, in order, as the help shows them (`<id>`); all required. */
  args: string[];
  summary: string;
  /** More help, after the usage line and the options. */
  details?: string;
  options: Record<string, OptionSpec>;
  run(context: Context, args: string[], options: OptionValues): Promise<void>;
}

/** The options every command takes. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  url: { type: "string", value: "url", help: "the control plane (default: PROPIUS_URL, else the one logged in to last, else http://127.0.0.1:8787)" },
  json: { type: "boolean", help: "print the answer as JSON, for scripts (errors too, on stderr)" },
  help: { type: "boolean", short: "h", help: "show this help" },
};
