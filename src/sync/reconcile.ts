/**
 * The reconciler closes the gaps webhooks leave: per installation it asks both CRMs for records
 * modified since a watermark (minus a lookback window), compares each modification time with the
 * newest event the app received for that record, and marks pending what no event covered. A lost
 * webhook becomes a delay, not a loss.
 *
 * Every uncovered record is synced, but only a change to what the app watches (a watched HubSpot
 * property, a Lead's or Opportunity's stage fields) that no event brought is a warning for the
 * admin: form submissions, analytics and other unwatched edits move a record's modification time
 * without any webhook being lost, and those are logged at info.
 */
import type { HubSpotContact, HubSpotPort, SalesforcePort, SalesforceRecord } from '../crm/ports.ts';
import { CrmRejectedError } from '../crm/errors.ts';
import { toCorporateCents } from '../domain/revenue.ts';
import { SILENT_STOP_ACTIONS } from '../domain/sync-failures.ts';
import { saveCampaignCosts } from '../store/deals.ts';
import type { Queryable } from '../store/db.ts';
import { lastNotifiedFields, newestEvents, recordInboundEvent } from '../store/inbound-events.ts';
import { loadWatermark, saveWatermark, type Watermark } from '../store/reconcile-watermarks.ts';
import { writeSyncLog, type SyncLogEntry } from '../store/sync-log.ts';
import { contactRef, fieldValues, recordText, salesforceRef, STAGE_FIELDS } from './context.ts';
import type { Direction } from './pending-set.ts';
import { salesforceTime } from '../domain/salesforce-time.ts';

export interface ReconcileDeps {
  db: Queryable;
  installationId: string;
  hubspot: HubSpotPort;
  salesforce: SalesforcePort;
  /** The contact properties whose change moves the sync (the app's own and the mapped ones: src/sync/mapped-fields.ts). */
  watchedProperties: readonly string[];
  /** The fields of a converted person's Contact whose change moves the sync (the opt-out and the mapped ones). */
  watchedContactFields?: readonly string[];
  /** Marks records pending and schedules their drain. */
  markPending(direction: Direction, keys: string[]): Promise<void>;
  now: () => Date;
  /** How far behind the watermark each pass looks again (clock skew, late commits). */
  lookbackMs: number;
  /** Records read per stream and pass. */
  pageLimit: number;
}

export interface ReconcileResult {
  stream: string;
  compared: number;
  /** Records with a change to a watched property or stage that no event brought. */
  caught: number;
  /** Records modified with no event but no watched change (synced anyway, logged at info). */
  checked: number;
}

/** The Salesforce objects the reconciler passes over for changes. */
type ReconciledObject = 'Lead' | 'Opportunity' | 'Contact';

/** The fields of an object the sync acts on: a Lead's or Opportunity's stage, a Contact's watched fields. */
function watchedFields(deps: Pick<ReconcileDeps, 'watchedContactFields'>, type: ReconciledObject): readonly string[] {
  return type === 'Contact' ? (deps.watchedContactFields ?? []) : STAGE_FIELDS[type];
}

/** The watched fields whose current value differs from the last notified one (all of them with no notification). */
function unannouncedFields(fields: readonly string[], record: SalesforceRecord, notified: Record<string, unknown> | undefined): string[] {
  const now = fieldValues(fields, record);
  if (notified === undefined) return Object.keys(now);
  const then = fieldValues(fields, notified);
  return Object.keys(now).filter((field) => now[field] !== then[field]);
}

/** The log line of one uncovered record: a warning naming the watched changes, or an info line without any. */
function catchLine(installationId: string, recordRef: string, at: number, changed: readonly string[], channel: string): SyncLogEntry {
  const when = new Date(at).toISOString();
  return changed.length > 0
    ? {
        installationId,
        recordRef,
        level: 'warn',
        action: SILENT_STOP_ACTIONS.reconcileCaught,
        reason: `${changed.join(', ')} changed by ${when} with no ${channel} received for it: synced by the reconciler`,
        details: { fields: changed },
      }
    : {
        installationId,
        recordRef,
        level: 'info',
        action: 'reconcile_checked',
        reason: `modified at ${when} with no ${channel}, but no watched field changed: synced by the reconciler to be sure`,
      };
}

/**
 * The records whose last modification was the app's own write (its webhook or message came back as
 * an echo) after the newest change the app heard of: a change made just before that write whose
 * own event was lost would look covered by the echo's time. They are synced to be sure, without
 * the history read a catch needs.
 */
function afterOwnWrite<T>(
  records: readonly T[],
  idOf: (r: T) => string,
  modifiedOf: (r: T) => number,
  ownWrites: Map<string, number>,
): Set<T> {
  return new Set(records.filter((record) => (ownWrites.get(idOf(record)) ?? Number.NEGATIVE_INFINITY) >= modifiedOf(record)));
}

/** The log line of a record synced because its last modification was the app's own write. */
function ownWriteLine(installationId: string, recordRef: string, at: number, channel: string): SyncLogEntry {
  return {
    installationId,
    recordRef,
    level: 'info',
    action: 'reconcile_checked',
    reason: `modified at ${new Date(at).toISOString()} by the app's own write (its ${channel} came back) with no news of a change before it since the last one: synced by the reconciler to be sure none was lost`,
  };
}

/** The watermark after a page: its newest record (never before the old mark), or the old mark when the page was empty. */
function advanced(mark: Watermark | null, since: Date, last: { id: string; at: number } | undefined): Watermark {
  return last ? { at: new Date(Math.max(last.at, mark?.at.getTime() ?? 0)), lastId: last.id } : (mark ?? { at: since, lastId: '' });
}

/** Where a pass starts reading: a lookback before its watermark (or before now on the first pass). */
async function startPass(
  deps: Pick<ReconcileDeps, 'db' | 'installationId' | 'now' | 'lookbackMs'>,
  stream: string,
): Promise<{ mark: Watermark | null; since: Date }> {
  const mark = await loadWatermark(deps.db, deps.installationId, stream);
  return { mark, since: new Date((mark?.at.getTime() ?? deps.now().getTime() - deps.lookbackMs) - deps.lookbackMs) };
}

/** Ends a pass: the watermark moves to the last record read (`advanced`), and the pass says what it found. */
async function endPass(
  deps: Pick<ReconcileDeps, 'db' | 'installationId'>,
  pass: { stream: string; mark: Watermark | null; since: Date; last: { id: string; at: number } | undefined },
  counts: { compared: number; caught: number; checked: number },
): Promise<ReconcileResult> {
  await saveWatermark(deps.db, deps.installationId, pass.stream, advanced(pass.mark, pass.since, pass.last), counts.caught);
  return { stream: pass.stream, ...counts };
}

/** A Salesforce record's SystemModstamp in epoch ms (the API writes `+0000` for UTC). */
const salesforceModified = (r: SalesforceRecord): number => salesforceTime(r.SystemModstamp) ?? Number.NaN;

/** Records the catch as an event of its own, so the next pass's lookback does not catch it again. */
async function recordCatches(
  db: Queryable,
  installationId: string,
  objectType: string,
  caught: readonly { id: string; at: number }[],
): Promise<void> {
  for (const { id, at } of caught) {
    await recordInboundEvent(db, {
      dedupeKey: `rc-${objectType}-${id}-${at}`,
      installationId,
      source: 'reconciler',
      objectType,
      objectId: id,
      occurredAt: new Date(at),
      receivedAt: new Date(),
      payload: { caughtBy: 'reconciler' },
    });
  }
}

/**
 * The records whose modification no received news covers (`missed`), those of them last modified
 * by the app's own write (`own`, see `afterOwnWrite`), and the newest news per record.
 */
async function uncoveredRecords<T>(
  deps: Pick<ReconcileDeps, 'db' | 'installationId'>,
  source: 'hubspot' | 'salesforce',
  records: readonly T[],
  idOf: (r: T) => string,
  modifiedOf: (r: T) => number,
): Promise<{ newest: Map<string, number>; missed: T[]; own: Set<T> }> {
  const { news: newest, ownWrites } = await newestEvents(deps.db, deps.installationId, source, records.map(idOf));
  const missed = records.filter((record) => {
    const seen = newest.get(idOf(record));
    return seen === undefined || seen < modifiedOf(record);
  });
  return { newest, missed, own: afterOwnWrite(missed, idOf, modifiedOf, ownWrites) };
}

/** One pass over HubSpot contacts. */
export async function reconcileHubSpot(deps: ReconcileDeps): Promise<ReconcileResult> {
  const stream = 'hubspot:contacts';
  const { mark, since } = await startPass(deps, stream);
  const contacts: HubSpotContact[] = [];
  let after: string | undefined;
  do {
    const page = await deps.hubspot.findContactsChangedSince(since, ['lastmodifieddate'], after);
    contacts.push(...page.contacts);
    after = page.after;
  } while (after !== undefined && contacts.length < deps.pageLimit);
  const modified = (c: HubSpotContact) => Date.parse(c.properties.lastmodifieddate ?? c.updatedAt);
  const { newest, missed, own } = await uncoveredRecords(deps, 'hubspot', contacts, (c) => c.id, modified);
  let caught = 0;
  if (missed.length > 0) {
    await deps.markPending(
      'to-salesforce',
      missed.map((c) => c.id),
    );
    await recordCatches(
      deps.db,
      deps.installationId,
      'contact',
      missed.map((c) => ({ id: c.id, at: modified(c) })),
    );
    // A watched property whose newest version is newer than the newest event: a change no webhook brought.
    const changeTimes = await deps.hubspot.readPropertyChangeTimes(
      missed.filter((c) => !own.has(c)).map((c) => c.id),
      deps.watchedProperties,
    );
    const lines = missed.map((c) => {
      if (own.has(c)) return ownWriteLine(deps.installationId, contactRef(c.id), modified(c), 'webhook');
      const seen = newest.get(c.id) ?? Number.NEGATIVE_INFINITY;
      const changed = Object.entries(changeTimes.get(c.id) ?? {})
        .filter(([, at]) => at > seen)
        .map(([name]) => name)
        .sort();
      return catchLine(deps.installationId, contactRef(c.id), modified(c), changed, 'webhook');
    });
    caught = lines.filter((line) => line.level === 'warn').length;
    await writeSyncLog(deps.db, lines);
  }
  const last = contacts.at(-1);
  return endPass(
    deps,
    { stream, mark, since, last: last && { id: last.id, at: modified(last) } },
    { compared: contacts.length, caught, checked: missed.length - caught },
  );
}

/** One pass over a Salesforce object (Lead, Opportunity or Contact), paged by (SystemModstamp, Id). */
export async function reconcileSalesforce(
  deps: ReconcileDeps,
  type: ReconciledObject,
  relinkUndeleted?: (ids: string[]) => Promise<void>,
): Promise<ReconcileResult> {
  const stream = `salesforce:${type}`;
  const { mark, since } = await startPass(deps, stream);
  const watched = watchedFields(deps, type);
  const records = await deps.salesforce.findChangedSince(
    type,
    [...new Set(['Id', 'SystemModstamp', 'LastModifiedById', ...watched])],
    since,
    deps.pageLimit,
  );
  // An undelete stamps SystemModstamp: a live record whose link a deletion set aside is linked again first.
  await relinkUndeleted?.(records.map((r) => r.Id));
  const modified = salesforceModified;
  const { missed, own } = await uncoveredRecords(deps, 'salesforce', records, (r) => r.Id, modified);
  let caught = 0;
  if (missed.length > 0) {
    await deps.markPending(
      'to-hubspot',
      missed.map((r) => `${type}:${r.Id}`),
    );
    await recordCatches(
      deps.db,
      deps.installationId,
      type,
      missed.map((r) => ({ id: r.Id, at: modified(r) })),
    );
    // The watched fields are what the Outbound Messages announce: compare them with the last one received.
    const notified = await lastNotifiedFields(
      deps.db,
      deps.installationId,
      missed.map((r) => r.Id),
    );
    const lines = missed.map((r) =>
      own.has(r)
        ? ownWriteLine(deps.installationId, salesforceRef(type, r.Id), modified(r), 'Outbound Message')
        : catchLine(
            deps.installationId,
            salesforceRef(type, r.Id),
            modified(r),
            unannouncedFields(watched, r, notified.get(r.Id)),
            'Outbound Message',
          ),
    );
    caught = lines.filter((line) => line.level === 'warn').length;
    await writeSyncLog(deps.db, lines);
  }
  const last = records.at(-1);
  return endPass(
    deps,
    { stream, mark, since, last: last && { id: last.Id, at: modified(last) } },
    { compared: records.length, caught, checked: missed.length - caught },
  );
}

/** Campaign fields the cost stream reads (Campaign object reference: BudgetedCost, ActualCost are currency fields). */
const CAMPAIGN_COST_FIELDS = [
  'Id',
  'Name',
  'Type',
  'Status',
  'StartDate',
  'EndDate',
  'CreatedDate',
  'BudgetedCost',
  'ActualCost',
  'SystemModstamp',
] as const;

/**
 * One pass over Salesforce Campaigns changed since the last: their cost (converted to the corporate
 * currency in a multi-currency org) kept for the report's cost and ROI. The first pass reads every
 * Campaign. A Campaign field the integration user cannot read is a warning for the admin, not a
 * failed pass.
 */
export async function reconcileCampaignCosts(
  deps: Pick<ReconcileDeps, 'db' | 'installationId' | 'salesforce' | 'pageLimit'>,
): Promise<ReconcileResult> {
  const stream = 'salesforce:Campaign';
  const mark = await loadWatermark(deps.db, deps.installationId, stream);
  const since = mark?.at ?? new Date(0);
  const rates = await deps.salesforce.currencyRates();
  let records: SalesforceRecord[];
  try {
    records = await deps.salesforce.findChangedSince(
      'Campaign',
      [...CAMPAIGN_COST_FIELDS, ...(rates?.multiCurrency === true ? ['CurrencyIsoCode'] : [])],
      since,
      deps.pageLimit,
    );
  } catch (error) {
    if (!(error instanceof CrmRejectedError) || !['INVALID_FIELD', 'INVALID_TYPE'].includes(error.code)) throw error;
    // Said once an hour, not on every pass.
    const warned = await loadWatermark(deps.db, deps.installationId, `${stream}:unreadable`);
    if (warned !== null && Date.now() - warned.at.getTime() < 3_600_000) return { stream, compared: 0, caught: 0, checked: 0 };
    await saveWatermark(deps.db, deps.installationId, `${stream}:unreadable`, { at: new Date(), lastId: '' }, 0);
    await writeSyncLog(deps.db, [
      {
        installationId: deps.installationId,
        recordRef: 'salesforce:Campaign',
        level: 'warn',
        action: 'campaign_cost_unreadable',
        reason: `Campaign cost cannot be read (${error.code}): give the integration user read access to Campaign BudgetedCost and ActualCost (permission set Smarketing Sync Integration) for cost and ROI in the report`,
      },
    ]);
    return { stream, compared: 0, caught: 0, checked: 0 };
  }
  const cents = (record: SalesforceRecord, field: string): number | null => {
    const value = record[field];
    if (typeof value !== 'number') return null;
    return toCorporateCents(
      value,
      rates?.multiCurrency === true && typeof record.CurrencyIsoCode === 'string' ? record.CurrencyIsoCode : null,
      rates,
    );
  };
  await saveCampaignCosts(
    deps.db,
    deps.installationId,
    records.flatMap((record) => {
      const name = recordText(record, 'Name');
      return name === null
        ? []
        : [
            {
              salesforceCampaignId: record.Id,
              name,
              type: recordText(record, 'Type'),
              status: recordText(record, 'Status'),
              startDate: recordText(record, 'StartDate'),
              endDate: recordText(record, 'EndDate'),
              createdDate: recordText(record, 'CreatedDate')?.slice(0, 10) ?? null,
              budgetedCostCents: cents(record, 'BudgetedCost'),
              actualCostCents: cents(record, 'ActualCost'),
            },
          ];
    }),
  );
  const last = records.at(-1);
  return endPass(
    deps,
    { stream, mark, since, last: last && { id: last.Id, at: salesforceModified(last) } },
    { compared: records.length, caught: 0, checked: 0 },
  );
}

/**
 * One pass over Salesforce's recycle bin for Leads or Contacts (`queryAll`, `IsDeleted = true`,
 * kept 15 days): Outbound Messages do not fire on delete, so merges (`MasterRecordId`) and
 * deletions are found here and applied (src/sync/deletions.ts). Live records of the ordinary Lead
 * stream whose link a deletion had set aside were undeleted: `relinkUndeleted` links them again.
 */
export async function reconcileSalesforceDeletions(
  deps: ReconcileDeps,
  type: 'Lead' | 'Contact',
  apply: (deleted: { id: string; masterId: string | null }[]) => Promise<void>,
): Promise<ReconcileResult> {
  const stream = `salesforce:deleted:${type}`;
  const { mark, since } = await startPass(deps, stream);
  const records = await deps.salesforce.findDeletedSince(type, since, deps.pageLimit);
  await apply(records.map((r) => ({ id: r.Id, masterId: recordText(r, 'MasterRecordId') })));
  const last = records.at(-1);
  return endPass(
    deps,
    { stream, mark, since, last: last && { id: last.Id, at: salesforceModified(last) } },
    { compared: records.length, caught: 0, checked: 0 },
  );
}
