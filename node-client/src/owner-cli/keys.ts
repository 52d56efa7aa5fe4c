import { createHash } from "node:crypto";
import type { ApiKeyInfo, NewApiKey } from "@propius/shared";
import type { Command } from "./command.js";
import type { Context } from "./context.js";
import { writeConfig } from "./config.js";
import { table, utc } from "./format.js";

/** The owner's commands on the tenant's API keys: list, make, revoke, rotate. A raw key is printed once, when it is made. */

/** A key's id as the control plane lists it: the first 12 hex digits of its SHA-256. */
export const keyIdOf = (apiKey: string) => createHash("sha256").update(apiKey).digest("hex").slice(0, 12);

function keyTable(keys: ApiKeyInfo[], current: string): string {
  return table(["id", "created", "revoked", ""], keys.map((k) => [k.id, utc(k.createdAt), k.revokedAt === null ? "-" : utc(k.revokedAt), k.id === current ? "(this key)" : ""]));
}

/** The id the command names: `current` is the key this CLI uses. */
async function idArg(context: Context, id: string): Promise<string> {
  return id === "current" ? keyIdOf(await context.apiKey()) : id;
}

/** When the key replaced or revoked is the one `propius login` stored, the stored key follows (a rotation) or the user is told. */
async function storeIfCurrent(context: Context, replaced: string, made: NewApiKey | null): Promise<string> {
  const config = await context.loadConfig();
  const url = await context.url();
  const stored = config.keys[url];
  if (!stored || keyIdOf(stored) !== replaced) return "";
  if (!made) return `\nthis was the key stored for ${url}: run propius login with another key`;
  config.keys[url] = made.apiKey;
  await writeConfig(context.configPath, config);
  return `\nthe new key replaces the one stored for ${url} in ${context.configPath}`;
}

export const keysList: Command = {
  path: ["keys", "ls"],
  args: [],
  summary: "list the tenant's API keys by id (revoked ones too), oldest first",
  options: {},
  details: "A key's id is the first 12 hex digits of its SHA-256: all the control plane keeps of it.",
  async run(context) {
    const { keys } = await (await context.owner()).keys();
    const current = keyIdOf(await context.apiKey());
    context.print(() => keyTable(keys, current), keys);
  },
};

export const keysCreate: Command = {
  path: ["keys", "create"],
  args: [],
  summary: "make another API key for the tenant; prints it, this once",
  options: {},
  async run(context) {
    const made = await (await context.owner()).createKey();
    context.print(`key ${made.key.id} made; it is shown this once:\n${made.apiKey}`, made);
  },
};

export const keysRevoke: Command = {
  path: ["keys", "revoke"],
  args: ["<id>"],
  summary: "revoke an API key (refused at once from then on); `current` names the key in use",
  options: {},
  details: "The tenant's last working key cannot be revoked (last_key): rotate it instead.",
  async run(context, [given]) {
    const id = await idArg(context, given);
    const revoked = await (await context.owner()).revokeKey(id);
    context.print(`key ${revoked.id} revoked${await storeIfCurrent(context, revoked.id, null)}`, revoked);
  },
};

export const keysRotate: Command = {
  path: ["keys", "rotate"],
  args: ["<id>"],
  summary: "replace an API key by a new one in one step; `current` names the key in use",
  options: {},
  details: `Prints the new key, this once. The old key is refused from that moment (no grace period):
update what uses it first, or make a second key with keys create and revoke the old one later.
Rotating the key propius login stored stores the new one in its place.`,
  async run(context, [given]) {
    const id = await idArg(context, given);
    const made = await (await context.owner()).rotateKey(id);
    const note = await storeIfCurrent(context, id, made);
    context.print(`key ${id} revoked; key ${made.key.id} replaces it and is shown this once:\n${made.apiKey}${note}`, made);
  },
};
