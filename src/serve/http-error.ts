/** Why a request failed, as the `reason` label of the error counter and the `code` field of the JSON error. */
export type FailureReason =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'not_ready'
  | 'overloaded'
  | 'timeout'
  | 'internal';

const STATUS: Record<FailureReason, 400 | 401 | 403 | 404 | 409 | 413 | 503 | 504 | 500> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  not_ready: 503,
  overloaded: 503,
  timeout: 504,
  internal: 500,
};

/**
 * The one exception HTTP handlers throw; the app turns it into `{"error": message, "code": reason}`. `detail` is for
 * the server's log only (a load failure naming store paths, say): the response then carries an error id instead,
 * which the log line names too.
 */
export class HttpError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 503 | 504 | 500;
  readonly detail: string | undefined;

  constructor(
    readonly reason: FailureReason,
    message: string,
    options: { detail?: string } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = STATUS[reason];
    this.detail = options.detail;
  }
}
