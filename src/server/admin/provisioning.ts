/**
 * Provisioning an installation, with a dry run first: the HubSpot property group and contact
 * properties, the Salesforce custom fields (Tooling API), the integration user's permission set,
 * Marketing User flag and field-level security (proven by describe), the HubSpot webhook subscriptions and
 * the Salesforce Outbound Message rules, each marked exists / missing / created. Only what is
 * missing is created; an admin's existing field, property or rule is never changed or deleted.
 * Where a system offers no API for a step (Outbound Messages in a real org, webhook settings of a
 * public app), the plan says what to set up by hand, with the URL to paste.
 */
import {
  HUBSPOT_COMPANY_PROPERTIES,
  HUBSPOT_CONTACT_PROPERTIES,
  HUBSPOT_PROPERTY_GROUP,
  leadStatusValues,
  SALESFORCE_CUSTOM_FIELDS,
} from '../../crm/field-catalog.ts';
import { ensureWebhookSubscriptions, IDENTITY_EVENT_TYPES, inspectWebhookSubscriptions } from '../../crm/hubspot/webhook-subscriptions.ts';
import type { InstallationRuntime } from '../../runtime/installation-clients.ts';
import { ensureSalesforceAccess, type SalesforceAccessReport } from '../../runtime/salesforce-access.ts';
import type { InstallationDetails } from '../../store/installation-admin.ts';
import { OPPORTUNITY_SYNC_FIELDS } from '../../sync/context.ts';
import { contactRecordReadFields, leadReadFields, watchedContactProperties } from '../../sync/mapped-fields.ts';
import { DEFAULT_FIELD_MAPPINGS, type FieldMapping, type StageDictionary } from '../../domain/stages.ts';
import type { SalesforcePort } from '../../crm/ports.ts';
import { sameSalesforceId } from '../../domain/salesforce-id.ts';

export type ItemStatus = 'exists' | 'missing' | 'created' | 'manual' | 'conflict' | 'unavailable';

export interface OutboundRuleSpec {
  name: string;
  object: 'Lead' | 'Opportunity' | 'Contact' | 'Task' | 'Event';
  triggerOn: ('create' | 'update')[];
  fields: string[];
  endpointUrl: string;
}

/** Fields of the Task and Event Outbound Messages: an activity a rep logs on a Lead is its first touch. */
export const ACTIVITY_FIELDS = ['Id', 'WhoId', 'OwnerId', 'CreatedDate', 'LastModifiedById'] as const;

/** What this deployment can set up by API besides fields (the sandbox CRMs allow more than real ones). */
export interface ProvisioningEnvironment {
  /** Webhook settings of the HubSpot app (developer API key); absent: set up by hand in the app settings. */
  hubspotWebhooks?: { basePath: string; developerApiKey: string; appId: number };
  /** Outbound Message rules of the org `orgId` (another installation's org is set up by hand in Salesforce Setup, as when absent). */
  outboundMessages?: {
    orgId: string;
    list(): { name: string; endpointUrl: string; fields: string[] }[];
    create(rule: OutboundRuleSpec & { integrationUserId: string }): void;
  };
}

type Section<T> = ({ ok: true } & T) | { ok: false; error: string };

export interface ProvisioningPlan {
  installationId: string;
  dryRun: boolean;
  hubspotProperties: Section<{
    group: { name: string; label: string };
    items: { object: 'contacts' | 'companies'; name: string; label: string; type: string; status: ItemStatus }[];
  }>;
  salesforceFields: Section<{ items: { object: string; name: string; label: string; type: string; status: ItemStatus }[] }>;
  /**
   * The Lead Status values the stage dictionary names, against the org's Lead Status picklist. It is a
   * standard picklist (StandardValueSet LeadStatus) that only an admin with Customize Application
   * changes, so a missing value is `manual`, with where to add it.
   */
  leadStatuses: Section<{ items: { value: string; stages: string[]; writtenByTheApp: boolean; status: ItemStatus }[] }>;
  /** The integration user's permission set, Marketing User and field-level security, proven by describe. */
  salesforceAccess: Section<SalesforceAccessReport>;
  hubspotWebhooks: Section<{
    targetUrl: string;
    automatic: boolean;
    currentTargetUrl: string | null;
    items: { eventType: string; propertyName: string | null; status: ItemStatus }[];
  }>;
  outboundMessages: Section<{
    endpointUrl: string;
    automatic: boolean;
    items: (OutboundRuleSpec & { status: ItemStatus; note: string | null })[];
  }>;
  /** How many items are missing (dry run) or were created (provision), and how many need a person. */
  counts: { missing: number; created: number; manual: number; conflicts: number };
  /**
   * The sync can run: the fields and properties exist and the integration user can read and update
   * every field (by describe). Steps set up by hand elsewhere (webhook settings, Flows) are listed
   * as `manual` and do not count here.
   */
  ready: boolean;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Each Lead Status the dictionary names (`leadStatusValues`), found in the org's picklist or left to the admin. */
export async function leadStatusSection(
  salesforce: SalesforcePort,
  dictionary: StageDictionary,
): Promise<ProvisioningPlan['leadStatuses']> {
  try {
    const status = (await salesforce.describeFields('Lead'))?.find((field) => field.name === 'Status');
    if (!status?.picklistValues) return { ok: false, error: 'the integration user cannot see the Lead Status field (Lead.Status)' };
    const picklist = status.picklistValues;
    return {
      ok: true,
      items: leadStatusValues(dictionary).map((value) => {
        const rows = dictionary.rows.filter((row) => row.salesforce?.object === 'Lead' && row.salesforce.status === value);
        return {
          value,
          stages: [...new Set(rows.map((row) => row.stage))],
          writtenByTheApp: rows.some((row) => row.direction !== 'salesforce_to_hubspot'),
          status: picklist.includes(value) ? 'exists' : 'manual',
        };
      }),
    };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}

/** An existing Outbound Message rule does what a wanted one does: it sends to the same endpoint at least the fields wanted. */
export function isCurrentRule(existing: { endpointUrl: string; fields: readonly string[] }, wanted: OutboundRuleSpec): boolean {
  return existing.endpointUrl === wanted.endpointUrl && wanted.fields.every((field) => existing.fields.includes(field));
}

/** The installation provisioning is for: its id, its org and the token in its Outbound Message endpoint. */
type ProvisionedInstallation = Pick<InstallationDetails, 'id' | 'salesforceWebhookToken' | 'salesforceOrgId'>;

/** The Outbound Message rules the sync needs, pointed at this installation's endpoint. */
export function outboundRulesFor(
  publicUrl: string,
  installation: ProvisionedInstallation,
  mappings: readonly FieldMapping[] = DEFAULT_FIELD_MAPPINGS,
): OutboundRuleSpec[] {
  const endpointUrl = `${publicUrl}/webhooks/salesforce/${installation.salesforceWebhookToken}`;
  return [
    // The Lead's message carries the mapped fields too (src/sync/mapped-fields.ts).
    { name: 'Smarketing Sync Lead', object: 'Lead', triggerOn: ['create', 'update'], fields: leadReadFields(mappings), endpointUrl },
    {
      name: 'Smarketing Sync Opportunity',
      object: 'Opportunity',
      triggerOn: ['create', 'update'],
      fields: [...OPPORTUNITY_SYNC_FIELDS],
      endpointUrl,
    },
    // A converted person's Contact: the mapped fields that follow it and the email opt-out.
    { name: 'Smarketing Sync Contact', object: 'Contact', triggerOn: ['update'], fields: contactRecordReadFields(mappings), endpointUrl },
    // A Task or Event a rep logs on a Lead is its first sales touch (SLA).
    { name: 'Smarketing Sync Task', object: 'Task', triggerOn: ['create', 'update'], fields: [...ACTIVITY_FIELDS], endpointUrl },
    { name: 'Smarketing Sync Event', object: 'Event', triggerOn: ['create', 'update'], fields: [...ACTIVITY_FIELDS], endpointUrl },
  ];
}

type ProvisionInput = Parameters<typeof provision>[0];
/** A section that could not be built, with the reason. */
const failed = (runtime: { error: string }) => ({ ok: false as const, error: runtime.error });
/** An item's status: there already, or missing (dry run) / created (provision). */
type Done = (missing: boolean) => ItemStatus;

/**
 * Builds the plan and, unless `dryRun`, creates what is missing. `runtime` is the installation's
 * CRM access (or the error that prevented building it).
 */
export async function provision(input: {
  installation: ProvisionedInstallation;
  runtime: InstallationRuntime | { error: string };
  publicUrl: string;
  environment: ProvisioningEnvironment;
  dryRun: boolean;
  /** Users to assign the sales permission set to (absent: the admin assigns it in Setup). */
  salesUserIds?: readonly string[];
}): Promise<ProvisioningPlan> {
  const { installation, runtime, dryRun } = input;
  const done: Done = (missing) => (!missing ? 'exists' : dryRun ? 'missing' : 'created');
  // 1. HubSpot contact properties (group `smarketing`); 2. Salesforce custom fields through the
  // Tooling API, and the Lead Status values the dictionary names; 3. the integration user's
  // permission set, Marketing User and field-level security.
  const { hubspotProperties, salesforceFields, leadStatuses, salesforceAccess } =
    'error' in runtime
      ? {
          hubspotProperties: failed(runtime),
          salesforceFields: failed(runtime),
          leadStatuses: failed(runtime),
          salesforceAccess: failed(runtime),
        }
      : {
          hubspotProperties: await provisionHubSpotProperties(runtime, dryRun, done),
          salesforceFields: await provisionSalesforceFields(runtime, dryRun, done),
          leadStatuses: await leadStatusSection(runtime.salesforce, runtime.dictionary),
          salesforceAccess: await provisionSalesforceAccess(runtime, input),
        };
  // 4. HubSpot webhooks to this app: the app's properties and the installation's mapped ones.
  const mappings = 'error' in runtime ? DEFAULT_FIELD_MAPPINGS : runtime.fieldMappings;
  const hubspotWebhooks = await provisionHubSpotWebhooks(input, watchedContactProperties(mappings), done);
  // 5. Salesforce Outbound Messages to this installation's endpoint.
  const outboundMessages = await provisionOutboundMessages(input, outboundRulesFor(input.publicUrl, installation, mappings), done);
  const plan: ProvisioningPlan = {
    installationId: installation.id,
    dryRun,
    hubspotProperties,
    salesforceFields,
    leadStatuses,
    salesforceAccess,
    hubspotWebhooks,
    outboundMessages,
    counts: { missing: 0, created: 0, manual: 0, conflicts: 0 },
    ready: false,
  };
  for (const section of [hubspotProperties, salesforceFields, leadStatuses, salesforceAccess, hubspotWebhooks, outboundMessages]) {
    if (!section.ok) continue;
    for (const item of section.items) {
      if (item.status === 'missing') plan.counts.missing += 1;
      else if (item.status === 'created') plan.counts.created += 1;
      else if (item.status === 'manual') plan.counts.manual += 1;
      else if (item.status === 'conflict') plan.counts.conflicts += 1;
    }
  }
  const inPlace = (status: ItemStatus) => status === 'exists' || status === 'created';
  plan.ready =
    hubspotProperties.ok &&
    hubspotProperties.items.every((i) => inPlace(i.status)) &&
    salesforceFields.ok &&
    salesforceFields.items.every((i) => inPlace(i.status)) &&
    salesforceAccess.ok &&
    salesforceAccess.ready &&
    // A Lead Status the app itself writes (a row synced from HubSpot) must be in the picklist; the others are sales' to set.
    leadStatuses.ok &&
    leadStatuses.items.every((i) => !i.writtenByTheApp || inPlace(i.status));
  return plan;
}

/** The app's HubSpot contact and company properties (group `smarketing`). */
async function provisionHubSpotProperties(
  runtime: InstallationRuntime,
  dryRun: boolean,
  done: Done,
): Promise<ProvisioningPlan['hubspotProperties']> {
  try {
    const contacts = new Set(
      (await runtime.hubspot.ensureContactProperties(HUBSPOT_PROPERTY_GROUP, HUBSPOT_CONTACT_PROPERTIES, dryRun)).missing,
    );
    const companies = new Set(
      (await runtime.hubspot.ensureCompanyProperties(HUBSPOT_PROPERTY_GROUP, HUBSPOT_COMPANY_PROPERTIES, dryRun)).missing,
    );
    return {
      ok: true,
      group: HUBSPOT_PROPERTY_GROUP,
      items: [
        ...HUBSPOT_CONTACT_PROPERTIES.map((p) => ({
          object: 'contacts' as const,
          name: p.name,
          label: p.label,
          type: p.type,
          status: done(contacts.has(p.name)),
        })),
        ...HUBSPOT_COMPANY_PROPERTIES.map((p) => ({
          object: 'companies' as const,
          name: p.name,
          label: p.label,
          type: p.type,
          status: done(companies.has(p.name)),
        })),
      ],
    };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}

/** The app's Salesforce custom fields, through the Tooling API. */
async function provisionSalesforceFields(
  runtime: InstallationRuntime,
  dryRun: boolean,
  done: Done,
): Promise<ProvisioningPlan['salesforceFields']> {
  try {
    const result = await runtime.salesforce.ensureCustomFields(SALESFORCE_CUSTOM_FIELDS, dryRun);
    const missing = new Set(result.missing.map((name) => name.toLowerCase()));
    return {
      ok: true,
      items: SALESFORCE_CUSTOM_FIELDS.map((f) => ({
        object: f.object,
        name: f.name,
        label: f.label,
        type: f.type,
        status: done(missing.has(`${f.object}.${f.name}`.toLowerCase())),
      })),
    };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}

/** The integration user's permission set, Marketing User and field-level security. */
async function provisionSalesforceAccess(
  runtime: InstallationRuntime,
  input: ProvisionInput,
): Promise<ProvisioningPlan['salesforceAccess']> {
  try {
    return {
      ok: true,
      ...(await ensureSalesforceAccess(runtime.salesforce, {
        dryRun: input.dryRun,
        ...(input.salesUserIds ? { salesUserIds: input.salesUserIds } : {}),
      })),
    };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}

/** The HubSpot webhook subscriptions: made by API where the environment can, else listed for the admin. */
async function provisionHubSpotWebhooks(
  input: ProvisionInput,
  watched: readonly string[],
  done: Done,
): Promise<ProvisioningPlan['hubspotWebhooks']> {
  const targetUrl = `${input.publicUrl}/webhooks/hubspot`;
  const hubspotWebhooks = input.environment.hubspotWebhooks;
  if (!hubspotWebhooks)
    return {
      ok: true,
      targetUrl,
      automatic: false,
      currentTargetUrl: null,
      items: [
        { eventType: 'contact.creation', propertyName: null, status: 'manual' },
        ...IDENTITY_EVENT_TYPES.map((eventType) => ({ eventType: eventType, propertyName: null, status: 'manual' as const })),
        ...watched.map((propertyName) => ({ eventType: 'contact.propertyChange', propertyName, status: 'manual' as const })),
      ],
    };
  const setup = { ...hubspotWebhooks, targetUrl, contactProperties: watched };
  try {
    const before = await inspectWebhookSubscriptions(setup);
    if (!input.dryRun) await ensureWebhookSubscriptions(setup, before);
    return {
      ok: true,
      targetUrl,
      automatic: true,
      currentTargetUrl: before.targetUrl,
      items: before.subscriptions.map((s) => ({ eventType: s.eventType, propertyName: s.propertyName, status: done(!s.exists) })),
    };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}

/** The Salesforce Outbound Messages: made by API where the environment can (an existing rule is never changed), else listed for the admin. */
async function provisionOutboundMessages(
  input: ProvisionInput,
  rules: readonly OutboundRuleSpec[],
  done: Done,
): Promise<ProvisioningPlan['outboundMessages']> {
  const { runtime } = input;
  const environment = input.environment.outboundMessages;
  const outbound = sameSalesforceId(environment?.orgId, input.installation.salesforceOrgId) ? environment : undefined;
  if (!outbound || 'error' in runtime)
    return {
      ok: true,
      endpointUrl: rules[0]?.endpointUrl ?? '',
      automatic: false,
      items: rules.map((rule) => ({
        ...rule,
        status: 'manual' as const,
        note: `Deploy platform/salesforce (npm run platform:salesforce with this endpoint URL, then sf project deploy start): its record-triggered Flow on ${rule.object} sends this Outbound Message. By hand: Setup → Flows, a record-triggered flow on ${rule.object} (created or updated) with an Outbound Message action sending the fields listed to the endpoint URL, as the integration user`,
      })),
    };
  try {
    const existing = outbound.list();
    const integrationUserId = await runtime.salesforce.integrationUserId();
    const items: (OutboundRuleSpec & { status: ItemStatus; note: string | null })[] = [];
    for (const rule of rules) {
      const same = existing.find((r) => r.name === rule.name);
      if (same && isCurrentRule(same, rule)) {
        items.push({ ...rule, status: 'exists', note: null });
      } else if (same) {
        const why =
          same.endpointUrl === rule.endpointUrl
            ? `does not send ${rule.fields.filter((f) => !same.fields.includes(f)).join(', ')}`
            : `sends to ${same.endpointUrl}`;
        items.push({
          ...rule,
          status: 'conflict',
          note: `a rule with this name ${why}: fix it by hand (an existing rule is never changed for you)`,
        });
      } else if ((rule.object === 'Task' || rule.object === 'Event') && !(await runtime.salesforce.canQuery(rule.object))) {
        items.push({ ...rule, status: 'unavailable', note: `this org has no ${rule.object} object for the integration user` });
      } else {
        if (!input.dryRun) outbound.create({ ...rule, integrationUserId });
        items.push({ ...rule, status: done(true), note: null });
      }
    }
    return { ok: true, endpointUrl: rules[0]?.endpointUrl ?? '', automatic: true, items };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}
