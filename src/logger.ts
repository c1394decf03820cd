/** Structured JSON logs (pino). Secrets never reach a log line: known secret fields are redacted. */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'bubuh' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'databaseUrl', '*.password', '*.token'],
      censor: 'REDACTED',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
