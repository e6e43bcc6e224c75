// k6 provides console in every context; @types/k6 does not declare it (it would need the DOM lib).
declare global {
  const console: {
    log(...args: unknown[]): void;
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
  };
}
export {};
