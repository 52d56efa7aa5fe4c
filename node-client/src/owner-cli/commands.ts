import type { Command } from "./command.js";
import { jobsCreate, jobsSeed } from "./jobs-create.js";
import { jobsCancel, jobsDemand, jobsDevices, jobsDownload, jobsList, jobsShow } from "./jobs-commands.js";
import { jobsFollow } from "./jobs-follow.js";
import { login } from "./login.js";
import { tenantsCreate } from "./tenants.js";
import { keysCreate, keysList, keysRevoke, keysRotate } from "./keys.js";
import { enrolmentTokensCreate, enrolmentTokensList, enrolmentTokensRevoke } from "./enrolment-tokens.js";

/** Every command of `propius`, in the order its help lists them. */
export const COMMANDS: Command[] = [login, jobsCreate, jobsSeed, jobsList, jobsShow, jobsDevices, jobsFollow, jobsDemand, jobsCancel, jobsDownload, keysList, keysCreate, keysRevoke, keysRotate, enrolmentTokensCreate, enrolmentTokensList, enrolmentTokensRevoke, tenantsCreate];
