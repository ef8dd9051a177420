// Refusals of an HTTP request, decided before any handler logic runs (size, syntax, shape). Each
// carries the HTTP status, the gRPC code etcd would report, and a stable bramble `code`.
import { BrambleError } from '../../errors.ts';
import { GrpcStatus } from './status.ts';

export type HttpErrorCode =
  | 'E_BAD_REQUEST'
  | 'E_UNSUPPORTED'
  | 'E_REQUEST_TOO_LARGE'
  | 'E_NOT_FOUND'
  | 'E_METHOD_NOT_ALLOWED';

export interface HttpErrorOptions {
  /** The body's `error` text when it differs from `message` (etcd's exact wording). */
  errorText?: string;
  /** Close the connection after answering (the rest of the request body was not read). */
  closeConnection?: boolean;
  /** Extra response headers, e.g. `Allow` on a 405. */
  headers?: Readonly<Record<string, string>>;
}

export class HttpError extends BrambleError {
  declare readonly code: HttpErrorCode;
  readonly status: number;
  readonly grpcCode: number;
  readonly errorText: string;
  readonly closeConnection: boolean;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: HttpErrorCode, status: number, grpcCode: number, message: string, options: HttpErrorOptions = {}) {
    super(code, message);
    this.status = status;
    this.grpcCode = grpcCode;
    this.errorText = options.errorText ?? message;
    this.closeConnection = options.closeConnection ?? false;
    this.headers = options.headers;
  }
}

/** A request that is malformed or invalid: HTTP 400, gRPC InvalidArgument. */
export function badRequest(message: string, errorText?: string): HttpError {
  return new HttpError('E_BAD_REQUEST', 400, GrpcStatus.InvalidArgument, message, errorText === undefined ? {} : { errorText });
}

/** A well-formed request that asks for an etcd feature bramble does not have: HTTP 400 as well,
 *  because the client can fix it by leaving the feature out. */
export function unsupported(message: string): HttpError {
  return new HttpError('E_UNSUPPORTED', 400, GrpcStatus.InvalidArgument, message);
}
