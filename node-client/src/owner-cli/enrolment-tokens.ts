import type { Command } from "./command.js";
import { table, utc } from "./format.js";

/** The owner's enrolment tokens: made (printed once), listed by id, revoked. */

export const enrolmentTokensCreate: Command = {
  path: ["enrolment-tokens", "create"],
  args: [],
  summary: "make an enrolment token for the tenant's jobs that ask for one (or one job's); prints it, this once",
  options: { job: { type: "string", value: "id", help: "for this job only" } },
  details: `A job whose spec says "enrolment": "token" binds only devices enrolled with such a token:
give it to your devices (propius-node --enrolment-token et_..., or PROPIUS_ENROLMENT_TOKEN).`,
  async run(context, _args, options) {
    const job = options.job as string | undefined;
    const made = await (await context.owner()).createEnrolmentToken(job === undefined ? {} : { job });
    context.print(`enrolment token ${made.token.id} made${job ? ` for ${job}` : ""}; it is shown this once:\n${made.enrolmentToken}`, made);
  },
};

export const enrolmentTokensList: Command = {
  path: ["enrolment-tokens", "ls"],
  args: [],
  summary: "list the tenant's enrolment tokens by id (revoked ones too)",
  options: {},
  async run(context) {
    const { tokens } = await (await context.owner()).enrolmentTokens();
    context.print(() => table(["id", "job", "created", "revoked"], tokens.map((t) => [t.id, t.job ?? "(any)", utc(t.createdAt), t.revokedAt === null ? "-" : utc(t.revokedAt)])), tokens);
  },
};

export const enrolmentTokensRevoke: Command = {
  path: ["enrolment-tokens", "revoke"],
  args: ["<id>"],
  summary: "revoke an enrolment token: it enrols no more devices",
  options: {},
  async run(context, [id]) {
    const revoked = await (await context.owner()).revokeEnrolmentToken(id);
    context.print(`enrolment token ${revoked.id} revoked`, revoked);
  },
};
