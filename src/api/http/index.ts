// Small HTTP building blocks shared by bramble's API servers: bounded body reading, JSON parsing
// with Go-worded syntax errors, JSON answers in grpc-gateway's error shape, and a method+path router.
export { OVERSIZE_DRAIN_BYTES_MAX, readBody, readFirstJsonObject, REQUEST_BYTES_MAX_DEFAULT } from './body.ts';
export type { FirstJsonObject } from './body.ts';
export { badRequest, HttpError, unsupported } from './errors.ts';
export type { HttpErrorCode, HttpErrorOptions } from './errors.ts';
export { describeJson, findJsonSyntaxError, isJsonBlank, JsonObjectEnd, parseJsonObject } from './json.ts';
export type { JsonObject, JsonSyntaxError } from './json.ts';
export { INTERNAL_ERROR_MESSAGE, Router, sendUnexpected } from './router.ts';
export type { Handler, Route, RouterOptions } from './router.ts';
export { errorBody, sendError, sendHttpError, sendJson, sendJsonText } from './send.ts';
export { GrpcStatus, httpStatusForGrpcCode } from './status.ts';
