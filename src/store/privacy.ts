/**
 * Consent memory (src/domain/consent.ts) and GDPR erasures: the app's copy of one person is
 * erased from every table that holds a personal value, in one transaction.
 */
import type { ConsentMemory } from '../domain/consent.ts';
import type { Db, Queryable } from './db.ts';

/** What the app last saw of each contact's opt-out on both sides; contacts never seen are left out. */
export async function consentMemories(
  db: Queryable,
  installationId: string,
  contactIds: readonly string[],
): Promise<Map<string, ConsentMemory>> {
  if (contactIds.length === 0) return new Map();
  const rows = await db.query<{ hubspot_contact_id: string; hubspot_opted_out: boolean; salesforce_opted_out: boolean }>(
    'SELECT hubspot_contact_id, hubspot_opted_out, salesforce_opted_out FROM consent_states WHERE installation_id = $1 AND hubspot_contact_id = ANY($2)',
    [installationId, [...new Set(contactIds)]],
  );
  return new Map(rows.map((r) => [r.hubspot_contact_id, { hubspot: r.hubspot_opted_out, salesforce: r.salesforce_opted_out }]));
}

/** Remembers what the app saw (after its own writes) of each contact's opt-out, in one statement (the last state of a contact wins). */
export async function rememberConsent(
  db: Queryable,
  installationId: string,
  states: readonly { contactId: string; memory: ConsentMemory }[],
): Promise<void> {
  if (states.length === 0) return;
  const last = [...new Map(states.map((state) => [state.contactId, state.memory])).entries()];
  await db.query(
    `INSERT INTO consent_states (installation_id, hubspot_contact_id, hubspot_opted_out, salesforce_opted_out, updated_at)
     SELECT $1, c.contact, c.hubspot, c.salesforce, now() FROM unnest($2::text[], $3::boolean[], $4::boolean[]) AS c(contact, hubspot, salesforce)
     ON CONFLICT (installation_id, hubspot_contact_id) DO UPDATE SET hubspot_opted_out = EXCLUDED.hubspot_opted_out, salesforce_opted_out = EXCLUDED.salesforce_opted_out, updated_at = now()`,
    [
      installationId,
      last.map(([contactId]) => contactId),
      last.map(([, memory]) => memory.hubspot),
      last.map(([, memory]) => memory.salesforce),
    ],
  );
}

/** What an erasure must find: the person's values and the Salesforce records the app knew. */
export interface ErasureIdentifiers {
  emails: string[];
  /** Full names and single name parts as they may appear in the app's text (SLA clock names, notes). */
  names: string[];
  salesforceIds: string[];
}

export interface ErasureState {
  completed: boolean;
  identifiers: ErasureIdentifiers | null;
}

/** The erasure of a contact, if one was requested before. */
export async function erasureOf(db: Queryable, installationId: string, contactId: string): Promise<ErasureState | null> {
  const rows = await db.query<{ completed_at: Date | null; identifiers: ErasureIdentifiers | null }>(
    'SELECT completed_at, identifiers FROM privacy_erasures WHERE installation_id = $1 AND hubspot_contact_id = $2',
    [installationId, contactId],
  );
  const row = rows[0];
  return row ? { completed: row.completed_at !== null, identifiers: row.identifiers } : null;
}

/**
 * Starts (or resumes) an erasure: the identifiers found now are added to those a previous attempt
 * kept, so a retry after the Salesforce record was anonymized still knows the person's email.
 */
export async function beginErasure(
  db: Queryable,
  installationId: string,
  contactId: string,
  policy: string,
  requestedAt: Date,
  found: ErasureIdentifiers,
): Promise<ErasureIdentifiers> {
  const previous = (await erasureOf(db, installationId, contactId))?.identifiers ?? { emails: [], names: [], salesforceIds: [] };
  const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b].filter((v) => v.trim() !== ''))];
  const identifiers: ErasureIdentifiers = {
    emails: union(
      previous.emails,
      found.emails.map((e) => e.toLowerCase()),
    ),
    names: union(previous.names, found.names),
    salesforceIds: union(previous.salesforceIds, found.salesforceIds),
  };
  await db.query(
    `INSERT INTO privacy_erasures (installation_id, hubspot_contact_id, requested_at, salesforce_policy, identifiers) VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (installation_id, hubspot_contact_id) DO UPDATE SET identifiers = EXCLUDED.identifiers, salesforce_policy = EXCLUDED.salesforce_policy`,
    [installationId, contactId, requestedAt, policy, JSON.stringify(identifiers)],
  );
  return identifiers;
}

/** `%value%` for ILIKE, with the pattern characters escaped. */
const contains = (value: string): string => `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Erases the app's copy of one person and closes the erasure, in one transaction. Rows that only
 * describe the person are deleted (link, consent memory, stage history, touches, origins, inbound
 * events); rows the reports count keep their numbers and lose their personal values (feedback
 * notes, SLA clock name, escalation details, deal name); sync log lines about the person, or that
 * quote one of their values, keep their action and lose reason and details. Returns how many rows
 * of each table changed.
 */
export async function eraseContactData(
  db: Db,
  installationId: string,
  contactId: string,
  identifiers: ErasureIdentifiers,
  logRefs: readonly string[],
): Promise<Record<string, number>> {
  const ids = identifiers.salesforceIds;
  const patterns = [...identifiers.emails, ...identifiers.names.filter((n) => n.length >= 3)].map(contains);
  return db.transaction(async (tx) => {
    const counts: Record<string, number> = {};
    const run = async (table: string, sql: string, params: readonly unknown[]): Promise<void> => {
      const rows = await tx.query(`${sql} RETURNING 1 AS one`, params);
      counts[table] = (counts[table] ?? 0) + rows.length;
    };
    const scope = [installationId, contactId, ids] as const;
    await deletePersonRows(run, scope, identifiers.emails, patterns);
    await blankPersonValues(run, scope, logRefs, patterns);
    await tx.query(
      'UPDATE privacy_erasures SET completed_at = now(), identifiers = NULL WHERE installation_id = $1 AND hubspot_contact_id = $2',
      [installationId, contactId],
    );
    return counts;
  });
}

/** Runs one erasure statement and counts the rows it changed under its table. */
type ErasureStatement = (table: string, sql: string, params: readonly unknown[]) => Promise<void>;
/** Installation, contact id and the person's Salesforce ids: the parameters $1–$3 of the erasure statements. */
type ErasureScope = readonly [installationId: string, contactId: string, ids: readonly string[]];

/** Deletes the rows that describe the person: links, consent memory, stage history, touches, origins, inbound events. */
async function deletePersonRows(
  run: ErasureStatement,
  scope: ErasureScope,
  emails: readonly string[],
  patterns: readonly string[],
): Promise<void> {
  const [installationId, contactId, ids] = scope;
  await run(
    'record_links',
    'DELETE FROM record_links WHERE installation_id = $1 AND (hubspot_contact_id = $2 OR salesforce_lead_id = ANY($3) OR salesforce_contact_id = ANY($3))',
    scope,
  );
  // A link the contact's deletion set aside (the same GDPR deletion also sends contact.deletion).
  await run(
    'record_unlinks',
    'DELETE FROM record_unlinks WHERE installation_id = $1 AND (hubspot_contact_id = $2 OR salesforce_lead_id = ANY($3) OR salesforce_contact_id = ANY($3))',
    scope,
  );
  await run('consent_states', 'DELETE FROM consent_states WHERE installation_id = $1 AND hubspot_contact_id = $2', [
    installationId,
    contactId,
  ]);
  await run('stage_history', 'DELETE FROM stage_history WHERE installation_id = $1 AND hubspot_contact_id = $2', [
    installationId,
    contactId,
  ]);
  await run('attribution_touches', 'DELETE FROM attribution_touches WHERE installation_id = $1 AND hubspot_contact_id = $2', [
    installationId,
    contactId,
  ]);
  await run(
    'attribution_origins',
    'DELETE FROM attribution_origins WHERE installation_id = $1 AND (lower(email) = ANY($2) OR salesforce_lead_id = ANY($3))',
    [installationId, emails, ids],
  );
  await run(
    'inbound_events',
    `DELETE FROM inbound_events WHERE installation_id = $1 AND ((object_id = $2 AND source = 'hubspot') OR object_id = ANY($3) OR payload::text ILIKE ANY($4))`,
    [installationId, contactId, ids, patterns],
  );
}

/** Blanks the person's values in the rows the reports count, and in the sync log lines about them or quoting them. */
async function blankPersonValues(
  run: ErasureStatement,
  scope: ErasureScope,
  logRefs: readonly string[],
  patterns: readonly string[],
): Promise<void> {
  const [installationId] = scope;
  await run(
    'feedback_events',
    'UPDATE feedback_events SET notes = NULL WHERE installation_id = $1 AND (hubspot_contact_id = $2 OR salesforce_record_id = ANY($3)) AND notes IS NOT NULL',
    scope,
  );
  await run(
    'sla_clocks',
    'UPDATE sla_clocks SET lead_name = NULL WHERE installation_id = $1 AND (hubspot_contact_id = $2 OR salesforce_lead_id = ANY($3)) AND lead_name IS NOT NULL',
    scope,
  );
  await run(
    'sla_escalations',
    `UPDATE sla_escalations SET details = '{}'::jsonb WHERE installation_id = $1 AND (clock_id IN (SELECT id FROM sla_clocks WHERE installation_id = $1 AND (hubspot_contact_id = $2 OR salesforce_lead_id = ANY($3))) OR details::text ILIKE ANY($4))`,
    [...scope, patterns],
  );
  await run(
    'deals',
    'UPDATE deals SET name = NULL WHERE installation_id = $1 AND (hubspot_contact_id = $2 OR salesforce_opportunity_id = ANY($3)) AND name IS NOT NULL',
    scope,
  );
  await run(
    'sync_log',
    `UPDATE sync_log SET reason = 'erased: privacy deletion', details = '{}'::jsonb WHERE installation_id = $1 AND (record_ref = ANY($2) OR reason ILIKE ANY($3) OR details::text ILIKE ANY($3))`,
    [installationId, logRefs, patterns],
  );
}
