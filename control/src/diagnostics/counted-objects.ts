import { JobObject } from "../job/job-object.js";
import { DirectoryObject } from "../directory/directory-object.js";
import { ClientManagerObject } from "../clients/client-manager-object.js";
import { AggregatorObject } from "../aggregation/aggregator-object.js";
import { countCalls } from "./object-counters.js";

/** Counts the calls of every object method (and alarm), for `GET /v1/admin/counters`. */
export function countObjectCalls(): void {
  countCalls(JobObject, {
    create: true, setInitialModel: true, claim: true, describe: true, secureBound: true, clipBound: true, admitUpdate: true, commitFolds: true, reportEvaluation: true,
    reportFailure: true, status: true, devices: true, model: true, recordMetrics: true, update: true, cancel: true, delete: true, mayReadModel: true,
  });
  countCalls(DirectoryObject, {
    addApiKey: true, lookupKey: true, listKeys: true, createKey: true, revokeKey: true, rotateKey: true, createEnrolmentToken: true, listEnrolmentTokens: true, revokeEnrolmentToken: true, enrolmentFor: true, trackJob: true, setJobState: true, untrackJob: true, setJobSchedule: true, scheduledJobs: true, runningJobs: true, jobsOf: true,
    reportShard: true, countRefusal: true, exposition: true, supplyOf: true,
  });
  countCalls(ClientManagerObject, { checkIn: true, ping: true, announce: true, revoke: true, revoked: true, setScope: true });
  countCalls(AggregatorObject, { submit: true, spend: true, folded: true, seal: true, sum: true, release: true, secureJoin: true, secureShare: true, secureMask: true, secureReveal: true, secureOutcome: true });
}
