/**
 * The app as production runs it: one web process (receivers and, in sandbox mode, both sandbox
 * CRMs) and N worker processes, each `node --import tsx src/main.ts --role=…`, logging to a file
 * under the run directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');

export interface AppProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves when the process has exited (with its code or signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: no shutdown hook runs, active jobs are abandoned mid-flight. */
  kill(): Promise<void>;
  /** SIGTERM and wait: the app's own clean shutdown. */
  stop(): Promise<void>;
}

/** Spawns `src/main.ts --role=<role>` with exactly `env` (plus PATH and HOME), output appended to `logFile`. */
export function spawnAppProcess(
  name: string,
  role: 'web' | 'worker',
  env: Record<string, string>,
  logFile: string,
  base: Record<string, string>,
): AppProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', `--role=${role}`], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    logFile,
    exited,
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` every `intervalMs` until it resolves true; throws `what` after `timeoutMs`. */
export async function pollUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let done = false;
    try {
      done = await probe();
    } catch {
      done = false;
    }
    if (done) return;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until `url` answers 200; fails at once when the process exits instead. */
export async function waitForHttpOk(url: string, app: AppProcess, timeoutMs = 90_000): Promise<void> {
  let exited = false;
  void app.exited.then(() => (exited = true));
  await pollUntil(
    async () => {
      if (exited) return true;
      const response = await fetch(url);
      await response.arrayBuffer();
      return response.ok;
    },
    timeoutMs,
    `${app.name} ready at ${url} (see ${app.logFile})`,
  );
  if (exited) throw new Error(`${app.name} exited during boot (see ${app.logFile})`);
}
