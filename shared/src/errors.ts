/**
 * Stable error codes shared by the control plane and its clients.
 * Every error response has the shape `{ "error": { "code", "message", "details"? } }`.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  invalid_update: 400,
  invalid_model: 400,
  invalid_message: 400,
  unauthorized: 401,
  subscription_invalid: 401,
  subscription_expired: 401,
  key_revoked: 401,
  token_expired: 401,
  token_revoked: 401,
  forbidden: 403,
  ticket_invalid: 403,
  enrolment_token_invalid: 403,
  not_found: 404,
  key_not_found: 404,
  job_not_found: 404,
  model_not_found: 404,
  method_not_allowed: 405,
  upload_stalled: 408,
  conflict: 409,
  job_not_running: 409,
  model_already_set: 409,
  round_closed: 409,
  ticket_used: 409,
  last_key: 409,
  secure_aggregation_off: 409,
  secure_phase_closed: 409,
  secure_group_failed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unsupported_model: 422,
  aggregation_too_large: 422,
  upgrade_required: 426,
  rate_limited: 429,
  not_configured: 503,
  push_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string";
}

/**
 * An error that carries a stable code; rendered by the control plane's one error handler, and
 * thrown by the clients for an error answer (`status` then the answer's HTTP status, which is the
 * code's own unless something between, a proxy, answered instead).
 */
export class PropiusError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown, status: number = ERROR_STATUS[code]) {
    super(message);
    this.name = "PropiusError";
    this.code = code;
    this.status = status;
    this.details = details;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}
