// Structured JSON-lines logging shared by every part of the daemon.
export { createLogger, formatLogLine, isLogLevel, LOG_LEVELS } from './logger.ts';
export type { LogFields, Logger, LoggerOptions, LogLevel, LogSink } from './logger.ts';
