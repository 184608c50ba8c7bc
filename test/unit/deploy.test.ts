import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

describe('deployment files', () => {
  it('runs the same command in the image as npm start', () => {
    const dockerfile = read('Dockerfile');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(cmd).toBeDefined();
    expect((JSON.parse(cmd as string) as string[]).join(' ')).toBe(pkg.scripts.start);
  });

  it('builds a non-root image with production dependencies and a health check', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
  });

  it('defines web, scalable worker, redis and postgres services in compose', () => {
    const compose = parse(read('docker-compose.yml')) as {
      services: Record<string, { command?: string[]; environment?: Record<string, string>; ports?: string[] }>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'postgres', 'redis', 'worker']);
    expect(compose.services.app?.command?.join(' ')).toBe(pkg.scripts.web);
    expect(compose.services.worker?.command?.join(' ')).toBe(pkg.scripts.worker);
    expect(compose.services.worker?.ports).toBeUndefined();
    expect(compose.services.worker?.environment?.REDIS_URL).toBe('redis://redis:6379');
    expect(compose.services.app?.environment?.DATABASE_URL).toMatch(/^postgres:\/\//);
    // Production never falls back to the sandbox CRMs, in the web process or the workers.
    expect(compose.services.app?.environment?.SANDBOX).toBe('false');
    expect(compose.services.worker?.environment?.SANDBOX).toBe('false');
  });

  it('documents every environment variable the config reads', () => {
    const readme = read('README.md');
    const config = read('src/config.ts');
    const variables = [...config.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] as string);
    expect(variables.length).toBeGreaterThan(30);
    for (const variable of variables) expect(readme, variable).toContain(`\`${variable}\``);
  });
});
