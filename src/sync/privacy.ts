/**
 * GDPR erasure (HubSpot `contact.privacyDeletion`): the contact is gone from HubSpot for good, and
 * the app erases what it holds about the person and, by the admin's policy (src/domain/consent.ts),
 * anonymizes the linked Salesforce Lead/Contact. The event carries only the contact id (no email,
 * no properties: docs/reference/hubspot-api.md §2, and it comes with an ordinary `contact.deletion`
 * in any order), so the person is found through the app's link and the Salesforce records that
 * carry the contact's id.
 *
 * Why anonymize by default: the person asked HubSpot to erase them, and the app copied their data
 * into Salesforce itself, so the request reaches that copy (GDPR Art. 17 and 19). Deleting the
 * Lead/Contact would also take the Opportunities' history (pipeline, revenue, attribution) with it
 * and needs a delete permission the integration user deliberately lacks; anonymizing keeps the
 * numbers and removes the person. `unlink` is for orgs whose own privacy process erases Salesforce.
 */
import type { SalesforcePort, SalesforceRecord } from '../crm/ports.ts';
import { anonymizedFields, DEFAULT_PRIVACY_POLICY, validatePrivacyPolicy, type PrivacyPolicy } from '../domain/consent.ts';
import type { Db } from '../store/db.ts';
import { settingInEffect } from '../store/installation-admin.ts';
import { beginErasure, eraseContactData, erasureOf } from '../store/privacy.ts';
import { linksByHubSpotIds } from '../store/record-links.ts';
import { writeSyncLog } from '../store/sync-log.ts';
import { contactRef, recordText, salesforceRef, stageValues } from './context.ts';
import type { ValueLedger } from './value-ledger.ts';

export interface ErasureDeps {
  db: Db;
  ledger: ValueLedger;
  /** The installation's Salesforce, or null when none is connected (only the app's copy is erased). */
  salesforce: SalesforcePort | null;
}

export type ErasureOutcome =
  | { kind: 'already_erased' }
  | { kind: 'erased'; policy: PrivacyPolicy['salesforceRecords']; anonymized: string[]; refused: string[]; rows: number };

/** The admin's privacy policy in effect. */
export async function privacyPolicyOf(db: Db, installationId: string): Promise<PrivacyPolicy> {
  return settingInEffect(db, installationId, 'privacyPolicy', validatePrivacyPolicy, DEFAULT_PRIVACY_POLICY);
}

const PERSON_FIELDS = ['Id', 'FirstName', 'LastName', 'Email', 'Status', 'IsConverted', 'ConvertedContactId'] as const;

/** The Salesforce Leads and Contacts of the person: linked, or carrying the contact's id. */
async function personRecords(
  salesforce: SalesforcePort,
  contactId: string,
  leadIds: readonly string[],
  contactIds: readonly string[],
): Promise<{ leads: SalesforceRecord[]; contacts: SalesforceRecord[] }> {
  const digits = contactId.replace(/\D/g, '');
  const leads = new Map<string, SalesforceRecord>();
  const contacts = new Map<string, SalesforceRecord>();
  for (const lead of await salesforce.readRecords('Lead', leadIds, PERSON_FIELDS)) leads.set(lead.Id, lead);
  for (const lead of await salesforce.recordsNamingContact('Lead', digits, PERSON_FIELDS)) leads.set(lead.Id, lead);
  const converted = [...leads.values()].map((lead) => recordText(lead, 'ConvertedContactId')).filter((id): id is string => id !== null);
  const contactFields = PERSON_FIELDS.filter((f) => f !== 'Status' && f !== 'IsConverted' && f !== 'ConvertedContactId');
  for (const contact of await salesforce.readRecords('Contact', [...new Set([...contactIds, ...converted])], contactFields))
    contacts.set(contact.Id, contact);
  for (const contact of await salesforce.recordsNamingContact('Contact', digits, contactFields)) contacts.set(contact.Id, contact);
  return { leads: [...leads.values()], contacts: [...contacts.values()] };
}

/**
 * Erases one person. Idempotent: 1. the identifiers are found and kept with the erasure (so a
 * retry after step 2 still knows them); 2. the Salesforce records are anonymized (a transient
 * failure throws and the job retries); 3. the app's copy is erased and the erasure closed in one
 * transaction; 4. the sync log says that it happened, with no personal value. A repeated event
 * finds the erasure closed and does nothing.
 */
export async function erasePerson(
  deps: ErasureDeps,
  installationId: string,
  contactId: string,
  requestedAt: Date,
): Promise<ErasureOutcome> {
  if ((await erasureOf(deps.db, installationId, contactId))?.completed) return { kind: 'already_erased' };
  const policy = (await privacyPolicyOf(deps.db, installationId)).salesforceRecords;
  // 1. Who the person is, from the link and Salesforce.
  const link = (await linksByHubSpotIds(deps.db, installationId, [contactId])).get(contactId);
  const leadIds = link?.salesforceLeadId ? [link.salesforceLeadId] : [];
  const contactIds = link?.salesforceContactId ? [link.salesforceContactId] : [];
  const found = deps.salesforce ? await personRecords(deps.salesforce, contactId, leadIds, contactIds) : { leads: [], contacts: [] };
  const people = [...found.leads, ...found.contacts];
  const identifiers = await beginErasure(deps.db, installationId, contactId, policy, requestedAt, {
    emails: [link?.email ?? '', ...people.map((r) => recordText(r, 'Email') ?? '')],
    names: people.map((r) => [recordText(r, 'FirstName'), recordText(r, 'LastName')].filter((n) => n !== null).join(' ')),
    salesforceIds: [
      ...leadIds,
      ...contactIds,
      ...(link?.salesforceOpportunityId ? [link.salesforceOpportunityId] : []),
      ...people.map((r) => r.Id),
    ],
  });

  // 2. Salesforce, by the policy. A converted Lead cannot be updated: its Contact carries the person.
  const anonymized: string[] = [];
  const refused: string[] = [];
  if (policy === 'anonymize' && deps.salesforce) {
    const leads = found.leads.filter((lead) => lead.IsConverted !== true);
    await deps.ledger.remember(
      installationId,
      'salesforce',
      leads.map((lead) => ({ recordId: lead.Id, values: stageValues('Lead', lead) })),
    );
    for (const [type, records] of [
      ['Lead', leads],
      ['Contact', found.contacts],
    ] as const) {
      if (records.length === 0) continue;
      const outcomes = await deps.salesforce.updateRecords(
        type,
        records.map((record) => ({ Id: record.Id, ...anonymizedFields(type) })),
      );
      for (const record of records) (outcomes.get(record.Id)?.ok ? anonymized : refused).push(salesforceRef(type, record.Id));
    }
  }

  // 3. The app's copy, in one transaction; the values the app wrote to HubSpot are forgotten too.
  const refs = [
    contactRef(contactId),
    ...identifiers.salesforceIds.flatMap((id) => ['Lead', 'Contact', 'Opportunity'].map((type) => salesforceRef(type, id))),
  ];
  const counts = await eraseContactData(deps.db, installationId, contactId, identifiers, refs);
  await deps.ledger.forget(installationId, 'hubspot', [contactId]);

  // 4. That it happened, and nothing personal.
  const rows = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const salesforceText =
    policy === 'unlink'
      ? 'Salesforce records left as they are and unlinked (privacy policy: unlink)'
      : deps.salesforce === null
        ? 'no Salesforce connected: nothing to anonymize there'
        : `Salesforce records anonymized: ${anonymized.length === 0 ? 'none found' : anonymized.join(', ')}${refused.length > 0 ? `; refused by Salesforce (anonymize them by hand): ${refused.join(', ')}` : ''}`;
  await writeSyncLog(deps.db, [
    {
      installationId,
      recordRef: contactRef(contactId),
      level: refused.length > 0 ? 'error' : 'info',
      action: 'privacy_erasure',
      reason: `HubSpot privacy deletion: the app's copy of the person was erased (${rows} rows); ${salesforceText}`,
      details: { policy, rows: counts, anonymized, refused },
    },
  ]);
  return { kind: 'erased', policy, anonymized, refused, rows };
}
