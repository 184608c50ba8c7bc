/**
 * Attribution state per installation: the touches observed on each contact (with the page they
 * happened on), where each person entered the funnel, and won revenue per Opportunity.
 */
import type { Queryable } from './db.ts';

/** One touch of a contact as stored (the first touch, or a later conversion / latest source). */
export interface StoredTouch {
  hubspotContactId: string;
  occurredAt: Date;
  isFirst: boolean;
  channel: string;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  content: string | null;
  term: string | null;
  landingPage: string | null;
  /** The full page URL, with its UTM parameters. */
  pageUrl: string | null;
  /** The converting form or event. */
  form: string | null;
}

interface TouchRow extends Record<string, unknown> {
  hubspot_contact_id: string;
  occurred_at: Date | string;
  is_first: boolean;
  channel: string;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  content: string | null;
  term: string | null;
  landing_page: string | null;
  page_url: string | null;
  form: string | null;
}

const TOUCH_COLUMNS =
  'hubspot_contact_id, occurred_at, is_first, channel, source, medium, campaign, content, term, landing_page, page_url, form';

/**
 * Records touches in one statement. A touch seen again (same contact and moment) is refreshed with
 * the latest classification; once first, always first.
 */
export async function recordTouches(db: Queryable, installationId: string, touches: readonly StoredTouch[]): Promise<void> {
  const unique = new Map<string, StoredTouch>();
  for (const touch of touches) {
    const key = `${touch.hubspotContactId}@${touch.occurredAt.getTime()}`;
    const earlier = unique.get(key);
    unique.set(key, earlier === undefined ? touch : { ...touch, isFirst: earlier.isFirst || touch.isFirst });
  }
  if (unique.size === 0) return;
  const values: unknown[] = [installationId];
  const rows = [...unique.values()].map((t) => {
    const base = values.length;
    values.push(
      t.hubspotContactId,
      t.occurredAt,
      t.isFirst,
      t.channel,
      t.source,
      t.medium,
      t.campaign,
      t.content,
      t.term,
      t.landingPage,
      t.pageUrl,
      t.form,
    );
    return `($1, ${Array.from({ length: 12 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
  });
  await db.query(
    `INSERT INTO attribution_touches (installation_id, ${TOUCH_COLUMNS}) VALUES ${rows.join(', ')}
     ON CONFLICT (installation_id, hubspot_contact_id, occurred_at) DO UPDATE SET
       is_first = attribution_touches.is_first OR EXCLUDED.is_first,
       channel = EXCLUDED.channel, source = EXCLUDED.source, medium = EXCLUDED.medium, campaign = EXCLUDED.campaign,
       content = EXCLUDED.content, term = EXCLUDED.term, landing_page = EXCLUDED.landing_page,
       page_url = COALESCE(EXCLUDED.page_url, attribution_touches.page_url), form = COALESCE(EXCLUDED.form, attribution_touches.form),
       recorded_at = now()`,
    values,
  );
}

/** The touches of the given contacts (all contacts when omitted), oldest first. */
export async function touchesOf(db: Queryable, installationId: string, contactIds?: readonly string[]): Promise<StoredTouch[]> {
  const rows =
    contactIds === undefined
      ? await db.query<TouchRow>(
          `SELECT ${TOUCH_COLUMNS} FROM attribution_touches WHERE installation_id = $1 ORDER BY hubspot_contact_id, occurred_at`,
          [installationId],
        )
      : contactIds.length === 0
        ? []
        : await db.query<TouchRow>(
            `SELECT ${TOUCH_COLUMNS} FROM attribution_touches WHERE installation_id = $1 AND hubspot_contact_id = ANY($2) ORDER BY hubspot_contact_id, occurred_at`,
            [installationId, contactIds],
          );
  return rows.map((row) => ({
    hubspotContactId: row.hubspot_contact_id,
    occurredAt: new Date(row.occurred_at),
    isFirst: row.is_first,
    channel: row.channel,
    source: row.source,
    medium: row.medium,
    campaign: row.campaign,
    content: row.content,
    term: row.term,
    landingPage: row.landing_page,
    pageUrl: row.page_url,
    form: row.form,
  }));
}

/** Where a person entered the funnel. */
export interface ContactOrigin {
  /** Lower-cased. */
  email: string;
  origin: 'hubspot' | 'salesforce';
  salesforceLeadId: string | null;
  enteredAt: Date | null;
}

interface OriginRow extends Record<string, unknown> {
  email: string;
  origin: 'hubspot' | 'salesforce';
  salesforce_lead_id: string | null;
  entered_at: Date | string | null;
}

/** Records origins; the first one recorded for an email stays (a person enters once). */
export async function recordOrigins(db: Queryable, installationId: string, origins: readonly ContactOrigin[]): Promise<void> {
  const unique = new Map(origins.filter((o) => o.email.trim() !== '').map((o) => [o.email.trim().toLowerCase(), o]));
  if (unique.size === 0) return;
  const values: unknown[] = [installationId];
  const rows = [...unique].map(([email, o]) => {
    const base = values.length;
    values.push(email, o.origin, o.salesforceLeadId, o.enteredAt);
    return `($1, $${base + 1}, $${base + 2}, $${base + 3}, $${base + 4})`;
  });
  await db.query(
    `INSERT INTO attribution_origins (installation_id, email, origin, salesforce_lead_id, entered_at) VALUES ${rows.join(', ')}
     ON CONFLICT (installation_id, email) DO NOTHING`,
    values,
  );
}

/** Origins of the given emails (any case), keyed by lower-cased email. */
export async function originsByEmail(
  db: Queryable,
  installationId: string,
  emails: readonly string[],
): Promise<Map<string, ContactOrigin>> {
  const wanted = [...new Set(emails.map((e) => e.trim().toLowerCase()).filter((e) => e !== ''))];
  if (wanted.length === 0) return new Map();
  const rows = await db.query<OriginRow>(
    'SELECT email, origin, salesforce_lead_id, entered_at FROM attribution_origins WHERE installation_id = $1 AND email = ANY($2)',
    [installationId, wanted],
  );
  return new Map(
    rows.map((row) => [
      row.email,
      {
        email: row.email,
        origin: row.origin,
        salesforceLeadId: row.salesforce_lead_id,
        enteredAt: row.entered_at === null ? null : new Date(row.entered_at),
      },
    ]),
  );
}
