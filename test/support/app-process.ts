/** Runs the app as a real child process (`node --import tsx src/main.ts`), as `npm start` does. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface AppProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the app with exactly the given environment (plus PATH and HOME). */
export function spawnApp(env: Record<string, string>, args: string[] = []): AppProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => out, exited };
}

/** Polls a URL until it answers 200 or the deadline passes. */
export async function waitForOk(url: string, timeoutMs = 30_000, app?: AppProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (app && app.child.exitCode !== null) throw new Error(`app exited early:\n${app.output()}`);
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms\n${app?.output() ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Polls `probe` until it returns true. The default pace (5 per second) keeps a test that reads a
 * CRM well inside the sandbox's rate limit, which the app under test shares.
 */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 20_000, what = 'condition', intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Polls `probe` as `eventually` does until it returns a value (neither undefined nor false), and resolves that value. */
export async function eventuallyValue<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
  what = 'condition',
  intervalMs = 200,
): Promise<T> {
  let found: T | undefined | false;
  await eventually(
    async () => {
      found = await probe();
      return found !== undefined && found !== false;
    },
    timeoutMs,
    what,
    intervalMs,
  );
  return found as T;
}
