/**
 * The SLA's stamps on both records (docs/architecture.md §5): status and due time on the
 * Salesforce Lead (or the Contact it converted to) and on the HubSpot contact, with the first
 * touch time; HubSpot writes go through the value ledger, so their webhooks are known echoes. A
 * CRM that cannot be reached is returned to the caller, to retry or to log; refusals are logged.
 */
import { refusalOf, type SalesforceRecord } from '../crm/ports.ts';
import type { SlaStatus } from '../domain/sla.ts';
import type { SlaClockRecord } from '../store/sla.ts';
import { contactRef, salesforceRef } from './context.ts';
import { isCrmFailure, Log, type ClockContext } from './sla-context.ts';

/** A HubSpot contact update. */
export interface HubSpotWrite {
  id: string;
  properties: Record<string, string>;
}

/** What one clock stamps on both records. */
export interface SlaStamp {
  clock: SlaClockRecord;
  status: SlaStatus;
  /** The converted Contact carries the stamp once the Lead is converted (a converted Lead cannot be edited). */
  salesforceTarget?: { type: 'Lead' | 'Contact'; id: string };
}

/**
 * Writes SLA status and due time to the Salesforce Lead (or its converted Contact) and the
 * HubSpot contact (with the first touch time). A CRM that cannot be reached is returned, for
 * the caller to retry or to log; per-record refusals are logged.
 */
export async function stampBothSides(
  ctx: ClockContext,
  stamps: readonly SlaStamp[],
  log: Log,
  hubspotBatch?: HubSpotWrite[],
): Promise<Error | null> {
  if (stamps.length === 0) return null;
  const byType = new Map<'Lead' | 'Contact', SalesforceRecord[]>();
  for (const { clock, status, salesforceTarget } of stamps) {
    const target = salesforceTarget ?? { type: 'Lead' as const, id: clock.leadId };
    byType.set(target.type, [
      ...(byType.get(target.type) ?? []),
      { Id: target.id, SLA_Status__c: status, SLA_Due_At__c: clock.dueAt.toISOString() },
    ]);
  }
  const hubspotWrites = stamps.flatMap(({ clock, status }) => {
    if (clock.contactId === null) return [];
    const properties: Record<string, string> = { sales_sla_status: status, sales_sla_due_at: clock.dueAt.toISOString() };
    if (clock.firstTouchAt !== null) properties['sales_first_touch_at'] = clock.firstTouchAt.toISOString();
    return [{ id: clock.contactId, properties }];
  });
  let unavailable: Error | null = null;
  for (const [type, records] of byType) {
    try {
      for (const [id, outcome] of await ctx.salesforce.updateRecords(type, records)) {
        if (!outcome.ok)
          log.add(salesforceRef(type, id), 'warn', 'sla_stamp_failed', `Salesforce refused the SLA stamp: ${refusalOf(outcome)}`);
      }
    } catch (error) {
      if (!isCrmFailure(error)) throw error;
      unavailable = error;
    }
  }
  // The caller's own HubSpot batch takes the contact stamps when it goes out next (one call fewer).
  if (hubspotBatch) {
    hubspotBatch.push(...hubspotWrites);
    return unavailable;
  }
  return (await stampHubSpot(ctx, hubspotWrites, log)) ?? unavailable;
}

/**
 * Stamps `pending` and each clock's due time on both records; when a CRM cannot be reached, logs
 * each clock's stamp as deferred, saying why with `unstamped`.
 */
export async function stampPending(
  ctx: ClockContext,
  clocks: readonly SlaClockRecord[],
  log: Log,
  unstamped: (error: Error) => string,
): Promise<void> {
  const unavailable = await stampBothSides(
    ctx,
    clocks.map((clock) => ({ clock, status: 'pending' as const })),
    log,
  );
  if (unavailable)
    for (const clock of clocks) log.add(salesforceRef('Lead', clock.leadId), 'warn', 'sla_stamp_deferred', unstamped(unavailable));
}

/** Writes SLA stamps on HubSpot contacts (one batch); returns the failure when HubSpot could not be reached. */
export async function stampHubSpot(ctx: ClockContext, writes: readonly HubSpotWrite[], log: Log): Promise<Error | null> {
  if (writes.length === 0) return null;
  try {
    await ctx.ledger.remember(
      ctx.installationId,
      'hubspot',
      writes.map((write) => ({ recordId: write.id, values: write.properties })),
    );
    for (const [id, outcome] of await ctx.hubspot.updateContacts(writes)) {
      if (!outcome.ok) log.add(contactRef(id), 'warn', 'sla_stamp_failed', `HubSpot refused the SLA stamp: ${refusalOf(outcome)}`);
    }
    return null;
  } catch (error) {
    if (!isCrmFailure(error)) throw error;
    return error;
  }
}

/**
 * Writes first-touch stamps that were handed to a batch which then failed, on their own; if
 * HubSpot cannot take them either, each is logged (the clock's result stays in Postgres and the
 * funnel report).
 */
export async function writeHandedOverStamps(ctx: ClockContext, writes: readonly HubSpotWrite[]): Promise<void> {
  const log = new Log(ctx);
  const unavailable = await stampHubSpot(ctx, writes, log);
  if (unavailable) {
    for (const write of writes)
      log.add(
        contactRef(write.id),
        'warn',
        'sla_stamp_deferred',
        `the SLA first-touch stamp did not reach HubSpot (${unavailable.message}); the funnel report has it, the contact keeps its previous SLA status`,
      );
  }
  await log.flush();
}
