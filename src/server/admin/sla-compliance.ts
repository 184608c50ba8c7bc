/**
 * The sales side's compliance and violations as the API and the admin page show them: the query
 * (period of handoffs, grouping, rule) checked with zod, the SLA policy in effect, and links to
 * the Salesforce record and the HubSpot contact of each handoff that broke a rule.
 */
import { z } from 'zod';
import { SALES_SLA_RULES } from '../../domain/review.ts';
import type { SalesSide } from '../../domain/review.ts';
import { SALES_GROUPINGS, salesSide, salesViolations, type SalesViolation } from '../../store/sla-compliance.ts';
import type { InstallationDetails } from '../../store/installation-admin.ts';
import { slaPolicyOf } from '../../store/sla.ts';
import type { AdminContext } from './context.ts';
import { runtimeOf } from './installations.ts';

const DAY_MS = 86_400_000;
const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 date-time, e.g. 2026-12-01T00:00:00Z' })
  .or(z.iso.date({ message: 'must be a date YYYY-MM-DD or an ISO-8601 date-time' }));

const periodFields = {
  from: instant.optional(),
  to: instant.optional(),
  groupBy: z.enum(SALES_GROUPINGS).default('owner'),
};

/** `?from=&to=&groupBy=`: handoffs in [from, to) (default the last 30 days), grouped by rep, team, channel or campaign. */
export const ComplianceQuerySchema = z
  .object(periodFields)
  .strict()
  .refine(fromBeforeTo, { message: 'from must be before to', path: ['to'] });
/** `?rule=&groupBy=&group=&from=&to=`: the handoffs that broke a rule, in one group (or all). */
export const ViolationsQuerySchema = z
  .object({ ...periodFields, rule: z.enum(SALES_SLA_RULES), group: z.string().trim().min(1).max(300).optional() })
  .strict()
  .refine(fromBeforeTo, { message: 'from must be before to', path: ['to'] });

function fromBeforeTo(query: { from?: string | undefined; to?: string | undefined }): boolean {
  return query.from === undefined || query.to === undefined || Date.parse(query.from) < Date.parse(query.to);
}

/** The period a query names: [from, to), by default the 30 days up to now. */
export function periodOfQuery(query: { from?: string | undefined; to?: string | undefined }, now: Date): { from: Date; to: Date } {
  const to = query.to === undefined ? now : new Date(query.to);
  const from = query.from === undefined ? new Date(to.getTime() - 30 * DAY_MS) : new Date(query.from);
  return { from, to };
}

/** The compliance of a period, grouped. */
export async function complianceView(
  ctx: AdminContext,
  installation: InstallationDetails,
  query: z.output<typeof ComplianceQuerySchema>,
): Promise<{ from: string; to: string; groupBy: string; sales: SalesSide }> {
  const now = new Date(ctx.now());
  const period = periodOfQuery(query, now);
  const sales = await salesSide(ctx.db, {
    installationId: installation.id,
    ...period,
    now,
    policy: await slaPolicyOf(ctx.db, installation.id),
    groupBy: query.groupBy,
  });
  return { from: period.from.toISOString(), to: period.to.toISOString(), groupBy: query.groupBy, sales };
}

/** A violation with its links (null when the CRM's address is not known). */
export type LinkedViolation = SalesViolation & { salesforceUrl: string | null; hubspotUrl: string | null };

/** The handoffs that broke a rule, with links to the Salesforce Lead and the HubSpot contact. */
export async function violationsView(
  ctx: AdminContext,
  installation: InstallationDetails,
  query: z.output<typeof ViolationsQuerySchema>,
): Promise<{ from: string; to: string; rule: string; groupBy: string; group: string | null; violations: LinkedViolation[] }> {
  const now = new Date(ctx.now());
  const period = periodOfQuery(query, now);
  const violations = await salesViolations(ctx.db, {
    installationId: installation.id,
    ...period,
    now,
    rule: query.rule,
    groupBy: query.groupBy,
    ...(query.group === undefined ? {} : { group: query.group }),
  });
  const runtime = violations.length === 0 ? { error: 'nothing to link' } : await runtimeOf(ctx, installation.id);
  const salesforceUrl = (id: string): string | null => ('error' in runtime ? null : runtime.salesforce.recordUrl('Lead', id));
  // HubSpot's contact record page (https://knowledge.hubspot.com/records/view-records: app.hubspot.com/contacts/{portal}/record/0-1/{id}).
  const hubspotUrl = (id: string | null): string | null =>
    id === null || installation.hubspotPortalId === null
      ? null
      : `https://app.hubspot.com/contacts/${encodeURIComponent(installation.hubspotPortalId)}/record/0-1/${encodeURIComponent(id)}`;
  return {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    rule: query.rule,
    groupBy: query.groupBy,
    group: query.group ?? null,
    violations: violations.map((violation) => ({
      ...violation,
      salesforceUrl: salesforceUrl(violation.leadId),
      hubspotUrl: hubspotUrl(violation.contactId),
    })),
  };
}
