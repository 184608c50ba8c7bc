/** The chaos run's printout: what was done to the app, then one table of the figures that must be 0. */
import type { Convergence, Findings } from './check.ts';
import type { FaultLogEntry, Form } from './faults.ts';
import type { WorkloadResult } from './workload.ts';

export interface ChaosReport {
  form: Form;
  /** Both sides in pull mode (`--pull`). */
  pull: boolean;
  seed: number;
  journeys: number;
  workers: number;
  workload: WorkloadResult;
  faults: FaultLogEntry[];
  faultCounters: Record<string, number>;
  convergence: Convergence;
  /** Changes the app recorded, by where they came from. */
  intake: Record<string, number>;
  echo: { writes: number; endpoints: Record<string, number>; windowMs: number };
  findings: Findings;
  calls: { hubspot: number; salesforce: number; salesforceApiUsage: number; endpoints: Record<string, number> };
  totalMs: number;
  logDir: string;
}

/** The figures that must all be zero, in the order they are printed. */
export function zeroFigures(report: ChaosReport): [string, number][] {
  return [
    ['changes lost', report.findings.lost.length],
    ['duplicate records', report.findings.duplicates.length],
    ['echo writes', report.echo.writes],
    ['stage regressions', report.findings.regressions.length],
    ['orphan jobs', report.findings.orphans.length],
    ['orphan links', report.findings.orphanLinks.length],
  ];
}

/** True when every zero figure is zero, the app converged, and the workload and faults ran as planned. */
export function passed(report: ChaosReport): boolean {
  return (
    zeroFigures(report).every(([, n]) => n === 0) &&
    report.convergence.converged &&
    report.workload.errors.length === 0 &&
    report.faults.every((f) => !f.outcome.startsWith('FAILED'))
  );
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function printReport(report: ChaosReport, out: (text: string) => void): void {
  const lines: string[] = [];
  lines.push(
    '',
    `Chaos suite, ${report.form} form${report.pull ? ' in pull mode' : ''} (seed ${report.seed}): ${report.journeys} lead journeys, ${report.workload.steps} steps, ${report.workers} worker processes`,
    '',
  );
  lines.push('Faults (offset from the workload start):');
  for (const f of report.faults) lines.push(`  +${seconds(f.atMs).padStart(7)}  ${f.name}${f.outcome === 'done' ? '' : ` — ${f.outcome}`}`);
  const counters = Object.entries(report.faultCounters)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  lines.push(`  fired: ${counters.join(', ') || 'none'}`, '');
  lines.push(
    `Workload ${seconds(report.workload.durationMs)}; CRM API calls: HubSpot ${report.calls.hubspot}, Salesforce ${report.calls.salesforce} (org API usage ${report.calls.salesforceApiUsage})`,
  );
  lines.push(
    `  busiest: ${Object.entries(report.calls.endpoints)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  lines.push(
    `  changes taken in: ${Object.entries(report.intake)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  if (report.workload.errors.length > 0) {
    lines.push(`Workload errors (the journeys are left out of the checks; the run fails): ${report.workload.errors.length}`);
    for (const e of report.workload.errors.slice(0, 10)) lines.push(`  journey ${e.journey} ${e.step}: ${e.error}`);
  }
  lines.push('');
  const figures = zeroFigures(report);
  const converge = report.convergence.converged ? seconds(report.convergence.ms) : `not within ${seconds(report.convergence.ms)}`;
  const rows: [string, string][] = [...figures.map(([name, n]): [string, string] => [name, String(n)]), ['time to converge', converge]];
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(5, ...rows.map(([, v]) => v.length));
  const rule = (l: string, m: string, r: string) => `${l}${'─'.repeat(width + 2)}${m}${'─'.repeat(valueWidth + 2)}${r}`;
  lines.push(rule('┌', '┬', '┐'), `│ ${'check'.padEnd(width)} │ ${'found'.padStart(valueWidth)} │`, rule('├', '┼', '┤'));
  rows.forEach(([name, value], i) => {
    if (i === figures.length) lines.push(rule('├', '┼', '┤'));
    lines.push(`│ ${name.padEnd(width)} │ ${value.padStart(valueWidth)} │`);
  });
  lines.push(rule('└', '┴', '┘'));
  const details: [string, string[]][] = [
    [
      'changes lost',
      report.findings.lost.map(
        (l) => `journey ${l.journey} (${l.kind}): ${l.problem}${(l.trail ?? []).map((t) => `\n      ${t}`).join('')}`,
      ),
    ],
    ['duplicate records', report.findings.duplicates],
    ['echo writes', Object.entries(report.echo.endpoints).map(([k, n]) => `${k}: ${n}`)],
    ['stage regressions', report.findings.regressions],
    ['orphan jobs', report.findings.orphans],
    ['orphan links', report.findings.orphanLinks],
    ['not converged', report.convergence.stillBusy],
  ];
  for (const [name, items] of details) {
    if (items.length === 0) continue;
    lines.push(`${name}:`);
    for (const item of items.slice(0, 12)) lines.push(`  ${item}`);
    if (items.length > 12) lines.push(`  … ${items.length - 12} more`);
  }
  lines.push(
    `Echo window ${seconds(report.echo.windowMs)} after convergence; ${report.findings.contacts} HubSpot contacts, ${report.findings.leads} Salesforce Leads checked; idle drain jobs still delayed: ${report.findings.idleDelayedDrains}`,
    `Logs: ${report.logDir}`,
    `${passed(report) ? 'PASS' : 'FAIL'} in ${seconds(report.totalMs)}`,
    '',
  );
  out(lines.join('\n'));
}
