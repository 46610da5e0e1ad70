/** Where a task worker writes what happens to it (console by default; pino and console both fit). */
export interface LHWorkerLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** console, without the debug lines. */
export const consoleLogger: LHWorkerLogger = {
  debug: () => undefined,
  info: (m) => console.info(`[pony worker] ${m}`),
  warn: (m) => console.warn(`[pony worker] ${m}`),
  error: (m) => console.error(`[pony worker] ${m}`),
};

/** Writes nothing. */
export const silentLogger: LHWorkerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
