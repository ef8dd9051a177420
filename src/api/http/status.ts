// gRPC status codes and the HTTP status etcd's JSON gateway (grpc-gateway v1,
// runtime.HTTPStatusFromCode) answers for each, so errors look the same from bramble and etcd.

export const GrpcStatus = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

// Indexed by gRPC code. FailedPrecondition is 400, not 412, as in grpc-gateway.
const HTTP_STATUS_BY_GRPC_CODE: readonly number[] = [
  200, 408, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401,
];

/** The HTTP status for a gRPC code; an unknown code is a server fault (500). */
export function httpStatusForGrpcCode(grpcCode: number): number {
  return HTTP_STATUS_BY_GRPC_CODE[grpcCode] ?? 500;
}
