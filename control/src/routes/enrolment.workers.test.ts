import { afterEach, describe, expect, it } from "vitest";
import type { CheckInReply, Enrolment, JobStatus, NewEnrolmentToken } from "@propius/shared";
import { api, cancelRunningJobs, checkIn, createTenant, expectError, expectJson, jobSpec, registerClient, seedModel } from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

/** A running job of `owner` whose spec asks for token-enrolled devices (or not). */
async function job(owner: { apiKey: string }, enrolment?: "token" | "open") {
  const created = await expectJson<JobStatus>(api("/v1/jobs", { token: owner.apiKey, json: { ...jobSpec({ clientsPerRound: 4 }), ...(enrolment ? { enrolment } : {}) } }), 201);
  return seedModel(owner.apiKey, created.id);
}
const enrolmentToken = async (owner: { apiKey: string }, jobId?: string) =>
  (await expectJson<NewEnrolmentToken>(api("/v1/enrolment-tokens", { token: owner.apiKey, json: jobId ? { job: jobId } : {} }), 201)).enrolmentToken;
const enrolWith = (token: string) => expectJson<Enrolment>(api("/v1/clients", { json: { attributes: {}, enrolmentToken: token } }), 201);
const jobOf = (reply: CheckInReply) => (reply.status === "task" ? reply.task.jobId : null);

describe("enrolment restricted by token", () => {
  it("a job asking for tokens binds only devices enrolled with a token of its tenant; a device cannot claim the scope itself", async () => {
    const owner = await createTenant();
    const restricted = await job(owner, "token");
    expect(restricted.spec.enrolment).toBe("token");
    const open = await registerClient();
    expect(jobOf(await checkIn(open.token))).toBeNull();
    // The scope is the control plane's to set: a device reporting it is not believed.
    const claims = await expectJson<CheckInReply>(api("/v1/checkin", { token: open.token, json: { attributes: { enrolment: `tenant:${owner.tenant}` } } }));
    expect(jobOf(claims)).toBeNull();

    const enrolled = await enrolWith(await enrolmentToken(owner));
    expect(jobOf(await checkIn(enrolled.token))).toBe(restricted.id);
    // Another tenant's token does not open it.
    const stranger = await enrolWith(await enrolmentToken(await createTenant()));
    expect(jobOf(await checkIn(stranger.token))).toBeNull();
  });

  it("a token made for one job enrols devices for that job, not for the tenant's other jobs", async () => {
    const owner = await createTenant();
    const first = await job(owner, "token");
    const forFirst = await enrolmentToken(owner, first.id);
    await expectJson(api(`/v1/jobs/${first.id}/cancel`, { method: "POST", token: owner.apiKey }));
    await job(owner, "token");
    const device = await enrolWith(forFirst);
    expect(jobOf(await checkIn(device.token))).toBeNull();
  });

  it("token-enrolled devices still take open jobs", async () => {
    const owner = await createTenant();
    const open = await job(owner);
    const device = await enrolWith(await enrolmentToken(await createTenant()));
    expect(jobOf(await checkIn(device.token))).toBe(open.id);
  });

  it("refuses an unknown or revoked enrolment token with enrolment_token_invalid, and lists tokens by id", async () => {
    const owner = await createTenant();
    const token = await enrolmentToken(owner);
    const { tokens } = await expectJson<{ tokens: { id: string; revokedAt: number | null }[] }>(api("/v1/enrolment-tokens", { token: owner.apiKey }));
    expect(tokens).toHaveLength(1);
    expect(JSON.stringify(tokens)).not.toContain(token.slice(3));
    await expectJson(api(`/v1/enrolment-tokens/${tokens[0].id}`, { method: "DELETE", token: owner.apiKey }));
    await expectError(api("/v1/clients", { json: { attributes: {}, enrolmentToken: token } }), 403, "enrolment_token_invalid");
    await expectError(api("/v1/clients", { json: { attributes: {}, enrolmentToken: `et_${"x".repeat(32)}` } }), 403, "enrolment_token_invalid");
  });
});
