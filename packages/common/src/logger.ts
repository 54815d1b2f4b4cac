import winston from 'winston';
import { redactCredentials } from './redact.js';

export const logLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];
export type LogFields = Record<string, unknown>;

/**
 * What libraries log through. They take it as an option and never create their own, so the
 * app decides format, level and destination (and tests can collect lines).
 */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (component, nodeId, deploymentId...). */
  child(fields: LogFields): Logger;
}

export interface CreateLoggerOptions {
  /** @default 'info' */
  level?: LogLevel;
  /** `json`: one JSON object per line, for machines. `pretty`: for a terminal. @default 'json' */
  format?: 'json' | 'pretty';
  /** Where lines go. @default process.stderr */
  stream?: NodeJS.WritableStream;
  /** Fields on every line. */
  fields?: LogFields;
}

/**
 * JSON serialisation turns an Error into `{}`, and `log.error('...', { error })` is the usual way
 * to log one, so plain Errors become their name and message (plus stack for machines). Errors
 * with their own toJSON (KrakenError) already say what is safe to write.
 */
function errorFields(withStack: boolean): winston.Logform.Format {
  return winston.format((info) => {
    for (const [key, value] of Object.entries(info)) {
      if (value instanceof Error && !('toJSON' in value)) {
        info[key] = { name: value.name, message: value.message, ...(withStack ? { stack: value.stack } : {}) };
      }
    }
    return info;
  })();
}

/** Where winston keeps the finished line, after the last format ran. */
const LINE = Symbol.for('message');

/**
 * Credentials in URLs never reach a log line, whichever field or message carries them (a git URL
 * with a token, an error quoting it): applied to the finished line, so nothing can slip past.
 */
function redactedLine(): winston.Logform.Format {
  return winston.format((info) => {
    const line = (info as Record<symbol, unknown>)[LINE];
    if (typeof line === 'string') (info as Record<symbol, unknown>)[LINE] = redactCredentials(line);
    return info;
  })();
}

/** The winston-backed logger the `kraken` app wires in. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const format =
    options.format === 'pretty'
      ? winston.format.combine(
          errorFields(false),
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level, message, ...rest }) => {
            const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${level.padEnd(5)} ${String(message)}${extra}`;
          }),
          redactedLine(),
        )
      : winston.format.combine(
          errorFields(true),
          winston.format.timestamp(),
          winston.format.errors({ stack: true }),
          winston.format.json(),
          redactedLine(),
        );
  const base = winston.createLogger({
    level: options.level ?? 'info',
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format,
    defaultMeta: options.fields,
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's transport typings
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
  });
  return wrapWinston(base);
}

function wrapWinston(target: winston.Logger): Logger {
  return {
    error: (message, fields) => target.log('error', message, fields),
    warn: (message, fields) => target.log('warn', message, fields),
    info: (message, fields) => target.log('info', message, fields),
    debug: (message, fields) => target.log('debug', message, fields),
    child: (fields) => wrapWinston(target.child(fields)),
  };
}

/** Discards everything: the default for libraries when the caller passes no logger. */
export const noopLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => noopLogger,
};

export interface LogRecord {
  level: LogLevel;
  message: string;
  fields: LogFields;
}

/** Keeps lines in memory so tests can assert what was logged. */
export class MemoryLogger implements Logger {
  readonly records: LogRecord[];
  private readonly fields: LogFields;

  constructor(fields: LogFields = {}, records: LogRecord[] = []) {
    this.fields = fields;
    this.records = records;
  }

  error(message: string, fields?: LogFields): void {
    this.push('error', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.push('warn', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.push('info', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.push('debug', message, fields);
  }
  child(fields: LogFields): Logger {
    return new MemoryLogger({ ...this.fields, ...fields }, this.records);
  }

  private push(level: LogLevel, message: string, fields?: LogFields): void {
    this.records.push({ level, message, fields: { ...this.fields, ...fields } });
  }
}
