import { OwnerClient } from "@propius/edge-runtime";
import type { Command } from "./command.js";
import { usageError } from "./cli-error.js";
import { writeConfig } from "./config.js";

/**
 * `login`: checks an API key against the control plane (a refused key is not stored) and keeps it
 * for that control plane, which becomes the default of the commands that follow.
 */
export const login: Command = {
  path: ["login"],
  args: [],
  summary: "store the control plane's URL and a tenant's API key for the commands that follow",
  options: {
    key: { type: "string", value: "pk_...", help: "the API key (default: PROPIUS_API_KEY, else read from stdin; a terminal is asked for it)" },
  },
  details: `The key is checked with GET /v1/jobs first, then kept per control plane in the config file,
readable by you only (mode 0600): PROPIUS_CONFIG, else $XDG_CONFIG_HOME/propius/config.json, else
~/.config/propius/config.json. A key on the command line is seen by other users' ps: pipe it in.
PROPIUS_API_KEY, when set, is used instead of a stored key by every command.`,
  async run(context, _args, options) {
    const given = (options.key as string | undefined) ?? (context.io.env.PROPIUS_API_KEY || (await context.io.readSecret("API key: ")));
    const apiKey = given.trim();
    if (!apiKey) throw usageError("login needs an API key: --key, PROPIUS_API_KEY or a line on stdin");
    const http = await context.httpOptions();
    // A wrong key answers 401 here, and nothing is written.
    await new OwnerClient({ ...http, apiKey }).jobs();
    const config = await context.loadConfig();
    config.url = http.baseUrl;
    config.keys[http.baseUrl] = apiKey;
    await writeConfig(context.configPath, config);
    context.print(`logged in to ${http.baseUrl}; the key is kept in ${context.configPath}`, { url: http.baseUrl, config: context.configPath });
  },
};
