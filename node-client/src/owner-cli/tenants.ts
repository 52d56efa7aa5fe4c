import { OwnerClient } from "@propius/edge-runtime";
import type { Command } from "./command.js";
import { CliError } from "./cli-error.js";

/** `tenants create`: the operator's command, with the admin key, for a tenant and a new API key. */
export const tenantsCreate: Command = {
  path: ["tenants", "create"],
  args: ["<name>"],
  summary: "create a tenant (or add a key to one) with the operator's admin key; prints its new API key",
  options: {
    "admin-key": { type: "string", value: "key", help: "the control plane's admin key (default: PROPIUS_ADMIN_KEY)" },
  },
  details: `The name is lowercase letters, digits and dashes. The key is shown once: pass it to
propius login (echo "$KEY" | propius login). Locally, npm start keeps the admin key in
.propius/dev.vars (PROPIUS_ADMIN_KEY=...).`,
  async run(context, [name], options) {
    const adminKey = (options["admin-key"] as string | undefined) || context.io.env.PROPIUS_ADMIN_KEY;
    if (!adminKey) throw new CliError("tenants create needs the admin key: --admin-key or PROPIUS_ADMIN_KEY");
    const created = await OwnerClient.createTenant({ ...(await context.httpOptions()), adminKey, name });
    context.print(`tenant ${created.tenant} ${created.created ? "created" : "exists; a new key added"}\n${created.apiKey}`, created);
  },
};
