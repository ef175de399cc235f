/**
 * Structured logs: one JSON object per line, on stderr by default. Every
 * line has `time` (ISO 8601), `level` and `msg`; request lines add method,
 * path, status, bytes and duration (see server.ts).
 */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit = (level: string, msg: string, fields?: Record<string, unknown>) => {
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** An error as log fields: message and code, never a stack (one line per event). */
export function errorFields(err: unknown): Record<string, unknown> {
  const e = err as { message?: string; code?: string; nfsStatus?: string };
  return { error: e?.message ?? String(err), ...(e?.code ? { code: e.code } : {}), ...(e?.nfsStatus ? { nfsStatus: e.nfsStatus } : {}) };
}
