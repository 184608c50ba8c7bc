import { describe, expect, it } from 'vitest';
import { agreementSection } from '../../src/server/admin/pages/agreement.ts';

const goals = { installationId: 'acme', quarter: '2026-Q4', previousQuarter: '2026-Q3', asOf: '2026-12-16T00:00:00.000Z', goals: [] };

describe('the commitments and goals card', () => {
  it('shows each commitment with its pacing and status, and each goal with its unit, trend and status', () => {
    const page = agreementSection({
      installationId: 'acme',
      canEdit: false,
      commitments: {
        installationId: 'acme',
        period: { id: '2026-12', kind: 'month', from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' },
        asOf: '2026-12-16T00:00:00.000Z',
        commitments: [
          {
            key: 'mqls_delivered|',
            metric: 'mqls_delivered',
            channel: null,
            target: 40,
            delivered: 15,
            elapsedShare: 0.4839,
            expectedToDate: 19.35,
            forecast: 31,
            forecastShare: 0.775,
            status: 'behind',
          },
        ],
      },
      goals: {
        ...goals,
        goals: [
          {
            kpi: 'mql_to_sql',
            unit: 'percent',
            owner: 'Marketing',
            target: 40,
            actual: 52.38,
            previous: 50,
            trend: 'better',
            status: 'met',
          },
        ],
      },
    }).toString();
    expect(page).toContain('Marketing commitments, 2026-12 (48 % of the month gone)');
    expect(page).toMatch(
      /<td>mqls delivered<\/td><td>all<\/td><td class="num">40<\/td><td class="num">15<\/td><td class="num">19.35<\/td><td class="num">31 \(78 %\)<\/td><td><span class="badge error">behind<\/span>/,
    );
    expect(page).toMatch(
      /<td>mql to sql<\/td><td>Marketing<\/td><td class="num">40 %<\/td><td class="num">52.38 %<\/td><td class="num">50 %<\/td><td>better<\/td><td><span class="badge ok">met<\/span>/,
    );
    expect(page).not.toContain('/settings?key=');
  });

  it('links an installation admin to the settings when nothing is set', () => {
    const page = agreementSection({ installationId: 'acme', canEdit: true, commitments: null, goals }).toString();
    expect(page).toContain(
      'No marketing commitment set. <a href="/admin/installations/acme/settings?key=marketingCommitments">Set commitments</a>',
    );
    expect(page).toContain('No shared goal set for 2026-Q4. <a href="/admin/installations/acme/settings?key=sharedGoals">Set goals</a>');
  });
});
