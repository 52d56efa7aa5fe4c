import { z } from "zod";
import type { Attributes } from "./protocol.js";
import type { Constraints } from "./job-spec.js";

/**
 * Enrolment scopes. A device that enrols with an enrolment token (`et_...`, made by a tenant, for
 * the tenant or one of its jobs) carries its scope as the attribute `enrolment`, set by the control
 * plane and never by the device: `tenant:<name>` or `job:<id>`. A job whose spec says
 * `enrolment: "token"` binds only devices of its tenant's scope or its own.
 */
export const ENROLMENT_ATTRIBUTE = "enrolment";

export const enrolmentScope = (token: { tenant: string; job: string | null }) => (token.job ? `job:${token.job}` : `tenant:${token.tenant}`);

/** The constraint a job restricted to token-enrolled devices adds to its public ones. */
export function enrolmentConstraint(job: { id: string; tenant: string }): Constraints {
  return { [ENROLMENT_ATTRIBUTE]: { in: [`tenant:${job.tenant}`, `job:${job.id}`] } };
}

/** A device's attributes with its enrolment scope as the control plane knows it (whatever the device said). */
export function withEnrolment(attributes: Attributes, scope: string | null): Attributes {
  const { [ENROLMENT_ATTRIBUTE]: _claimed, ...rest } = attributes;
  return scope === null ? rest : { ...rest, [ENROLMENT_ATTRIBUTE]: scope };
}

/** `POST /v1/enrolment-tokens`: a token for the tenant's jobs, or for one job (`job`). */
export const createEnrolmentTokenSchema = z.strictObject({ job: z.string().regex(/^job_[A-Za-z0-9_-]{8,64}$/).optional() });
export const enrolmentTokenInfoSchema = z.object({
  id: z.string(),
  /** The job it enrols devices for, or null: every job of the tenant that asks for tokens. */
  job: z.string().nullable(),
  createdAt: z.number(),
  revokedAt: z.number().nullable(),
});
export const enrolmentTokenListSchema = z.object({ tokens: z.array(enrolmentTokenInfoSchema) });
/** The new token, shown this once, and its listing. */
export const newEnrolmentTokenSchema = z.object({ enrolmentToken: z.string(), token: enrolmentTokenInfoSchema });
export type EnrolmentTokenInfo = z.output<typeof enrolmentTokenInfoSchema>;
export type NewEnrolmentToken = z.output<typeof newEnrolmentTokenSchema>;
