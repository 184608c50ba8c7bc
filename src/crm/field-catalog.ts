/**
 * The fields the app provisions on install (docs/architecture.md §7): HubSpot contact properties in the
 * `smarketing` group, Salesforce custom fields on Lead, Contact and Opportunity, and the Salesforce
 * access both permission sets grant (the integration user's and the sales users'). API
 * provisioning, the metadata kit in `platform/salesforce` (checked by a test) and the dashboard's
 * permission check all read them from here.
 */
import { DEFAULT_FEEDBACK_REASONS, type FeedbackReason } from '../domain/feedback.ts';
import type { StageDictionary } from '../domain/stages.ts';
import type { CustomFieldDefinition, ObjectAccess, PermissionSetSpec, PropertyDefinition } from './ports.ts';

export const HUBSPOT_PROPERTY_GROUP = { name: 'smarketing', label: 'Smarketing Sync' };

/**
 * Contact properties whose change can move the sync: the app's HubSpot webhook subscriptions
 * (the project kit in platform/hubspot is held to them by a test) and the intake's filter.
 */
export const WATCHED_PROPERTIES = [
  'lifecyclestage',
  'hs_lead_status',
  'email',
  'firstname',
  'lastname',
  'company',
  'phone',
  'jobtitle',
  'recent_conversion_date',
  'hs_email_optout',
  // The marketing owner reps see on the Lead (Marketing_Owner__c) follows an owner change right away.
  'hubspot_owner_id',
] as const;

const text = (name: string, label: string): PropertyDefinition => ({ name, label, type: 'string', fieldType: 'text' });
const datetime = (name: string, label: string): PropertyDefinition => ({ name, label, type: 'datetime', fieldType: 'date' });
const number = (name: string, label: string): PropertyDefinition => ({ name, label, type: 'number', fieldType: 'number' });
const select = (name: string, label: string, values: readonly string[]): PropertyDefinition => ({
  name,
  label,
  type: 'enumeration',
  fieldType: 'select',
  options: values.map((value) => ({ label: value, value })),
});

/** Feedback statuses written to `sales_feedback_status` (docs/architecture.md §10). */
export const FEEDBACK_STATUSES = ['accepted', 'rejected', 'recycled', 'opportunity', 'won', 'lost'] as const;
/** SLA statuses (docs/architecture.md §10). */
export const SLA_STATUSES = ['pending', 'met', 'breached'] as const;
/** Follow-up cadence and disposition statuses (docs/architecture.md §5). */
export const FOLLOW_UP_STATUSES = ['pending', 'met', 'missed'] as const;

/**
 * Customer lifetime value (docs/architecture.md §14): every won deal of the contact's Salesforce
 * Account over time, in the org's corporate currency; written on the contact and on its companies.
 */
const HUBSPOT_CUSTOMER_PROPERTIES: readonly PropertyDefinition[] = [
  number('customer_lifetime_value', 'Customer lifetime value'),
  datetime('customer_first_won_at', 'Customer first won at'),
  number('customer_deals_won', 'Customer deals won'),
];

export const HUBSPOT_CONTACT_PROPERTIES: readonly PropertyDefinition[] = [
  text('salesforce_lead_id', 'Salesforce Lead ID'),
  text('salesforce_contact_id', 'Salesforce Contact ID'),
  text('attribution_first_channel', 'First touch channel'),
  text('attribution_first_source', 'First touch source'),
  text('attribution_first_medium', 'First touch medium'),
  text('attribution_first_campaign', 'First touch campaign'),
  text('attribution_first_content', 'First touch content'),
  text('attribution_first_term', 'First touch term'),
  datetime('attribution_first_at', 'First touch at'),
  text('attribution_last_channel', 'Last touch channel'),
  text('attribution_last_source', 'Last touch source'),
  text('attribution_last_medium', 'Last touch medium'),
  text('attribution_last_campaign', 'Last touch campaign'),
  datetime('attribution_last_at', 'Last touch at'),
  select('sales_feedback_status', 'Sales feedback status', FEEDBACK_STATUSES),
  text('sales_feedback_reason', 'Sales feedback reason'),
  { name: 'sales_feedback_notes', label: 'Sales feedback notes', type: 'string', fieldType: 'textarea' },
  text('sales_feedback_by', 'Sales feedback by'),
  datetime('sales_feedback_at', 'Sales feedback at'),
  number('sales_opportunity_amount', 'Sales opportunity amount'),
  number('sales_won_amount', 'Sales won amount'),
  datetime('sales_sla_due_at', 'Sales SLA due at'),
  select('sales_sla_status', 'Sales SLA status', SLA_STATUSES),
  datetime('sales_first_touch_at', 'Sales first touch at'),
  select('sales_followup_status', 'Sales follow-up cadence status', FOLLOW_UP_STATUSES),
  select('sales_disposition_status', 'Sales disposition status', FOLLOW_UP_STATUSES),
  ...HUBSPOT_CUSTOMER_PROPERTIES,
  // The Salesforce owner of the contact's Lead/Contact, for marketing (src/sync/owners.ts).
  text('sales_owner_name', 'Sales owner'),
  text('sales_owner_email', 'Sales owner email'),
];

/** The company properties the app provisions (in a group of the same name on companies). */
export const HUBSPOT_COMPANY_PROPERTIES: readonly PropertyDefinition[] = HUBSPOT_CUSTOMER_PROPERTIES;

const touchFields = (object: 'Lead' | 'Contact' | 'Opportunity'): CustomFieldDefinition[] => [
  { object, name: 'First_Touch_Channel__c', label: 'First Touch Channel', type: 'Text', length: 80 },
  { object, name: 'First_Touch_Source__c', label: 'First Touch Source', type: 'Text', length: 255 },
  { object, name: 'First_Touch_Medium__c', label: 'First Touch Medium', type: 'Text', length: 255 },
  { object, name: 'First_Touch_Campaign__c', label: 'First Touch Campaign', type: 'Text', length: 255 },
  { object, name: 'First_Touch_Content__c', label: 'First Touch Content', type: 'Text', length: 255 },
  { object, name: 'First_Touch_Term__c', label: 'First Touch Term', type: 'Text', length: 255 },
  { object, name: 'First_Touch_At__c', label: 'First Touch At', type: 'DateTime' },
  { object, name: 'Last_Touch_Channel__c', label: 'Last Touch Channel', type: 'Text', length: 80 },
  { object, name: 'Last_Touch_Source__c', label: 'Last Touch Source', type: 'Text', length: 255 },
  { object, name: 'Last_Touch_Medium__c', label: 'Last Touch Medium', type: 'Text', length: 255 },
  { object, name: 'Last_Touch_Campaign__c', label: 'Last Touch Campaign', type: 'Text', length: 255 },
  { object, name: 'Last_Touch_At__c', label: 'Last Touch At', type: 'DateTime' },
];

const personFields = (object: 'Lead' | 'Contact', reasonLabels: readonly string[]): CustomFieldDefinition[] => [
  { object, name: 'HubSpot_Contact_Id__c', label: 'HubSpot Contact ID', type: 'Text', length: 40, externalId: true, unique: true },
  { object, name: 'Lifecycle_Stage__c', label: 'Lifecycle Stage', type: 'Text', length: 40 },
  ...touchFields(object),
  {
    object,
    name: 'Feedback_Reason__c',
    label: 'Feedback Reason',
    type: 'Picklist',
    picklistValues: [...reasonLabels],
    salesAccess: 'edit',
  },
  { object, name: 'Feedback_Notes__c', label: 'Feedback Notes', type: 'LongTextArea', length: 32000, salesAccess: 'edit' },
  { object, name: 'SLA_Due_At__c', label: 'SLA Due At', type: 'DateTime' },
  { object, name: 'SLA_Status__c', label: 'SLA Status', type: 'Picklist', picklistValues: [...SLA_STATUSES] },
  { object, name: 'SLA_Cadence_Status__c', label: 'SLA Cadence Status', type: 'Picklist', picklistValues: [...FOLLOW_UP_STATUSES] },
  { object, name: 'SLA_Disposition_Status__c', label: 'SLA Disposition Status', type: 'Picklist', picklistValues: [...FOLLOW_UP_STATUSES] },
  // The contact's HubSpot owner, for sales: `Name <email>` (src/sync/owners.ts).
  { object, name: 'Marketing_Owner__c', label: 'Marketing Owner', type: 'Text', length: 255 },
];

/**
 * The Salesforce custom fields for a feedback taxonomy's reasons: `Feedback_Reason__c` and
 * `Loss_Reason__c` offer its labels, so a reason added to the taxonomy is one data change.
 */
export function salesforceCustomFields(reasons: readonly FeedbackReason[]): CustomFieldDefinition[] {
  const labels = reasons.map((reason) => reason.label);
  return [
    ...personFields('Lead', labels),
    ...personFields('Contact', labels),
    ...touchFields('Opportunity'),
    {
      object: 'Opportunity',
      name: 'Loss_Reason__c',
      label: 'Loss Reason',
      type: 'Picklist',
      picklistValues: [...labels],
      salesAccess: 'edit',
    },
    { object: 'Opportunity', name: 'Win_Reason__c', label: 'Win Reason', type: 'Text', length: 255, salesAccess: 'edit' },
  ];
}

/** The custom fields of the default feedback taxonomy (docs/architecture.md §10). */
export const SALESFORCE_CUSTOM_FIELDS: readonly CustomFieldDefinition[] = salesforceCustomFields(DEFAULT_FEEDBACK_REASONS);

/**
 * The Lead Status picklist values the stage dictionary needs in Salesforce, in funnel order then the
 * side stages: every Lead Status a row names (the app writes some, sales sets the others).
 */
export function leadStatusValues(dictionary: Pick<StageDictionary, 'funnel' | 'rows'>): string[] {
  const order = (stage: string): number => {
    const index = dictionary.funnel.indexOf(stage);
    return index === -1 ? dictionary.funnel.length : index;
  };
  const statuses = [...dictionary.rows]
    .map((row, index) => ({ row, index }))
    .sort((a, b) => order(a.row.stage) - order(b.row.stage) || a.index - b.index)
    .flatMap(({ row }) => (row.salesforce?.object === 'Lead' && row.salesforce.status !== undefined ? [row.salesforce.status] : []));
  return [...new Set(statuses)];
}

const objectAccess = (object: string, create: boolean, edit: boolean): ObjectAccess => ({ object, read: true, create, edit });

/**
 * The integration user's permission set: edit on every field the app provisions, and the object
 * access its writes need: Leads (upsert), Contacts (stamps), Accounts and Opportunities (lead
 * conversion creates them), Campaigns (attribution; members follow from Campaign and Lead/Contact
 * access and the user's Marketing User flag). Tasks and Events have no object permissions in
 * Salesforce: "Edit Tasks" lets the app create SLA escalation Tasks. Nothing more: no delete, no
 * View/Modify All.
 */
/** Standard fields the revenue loop reads: Campaign cost (ROI) and Account size (segments). */
export const REVENUE_READ_FIELDS = [
  ['Campaign', 'BudgetedCost'],
  ['Campaign', 'ActualCost'],
  ['Account', 'NumberOfEmployees'],
  ['Account', 'AnnualRevenue'],
] as const;

/** Standard fields the pipeline review reads: a Campaign's schedule for the campaigns starting soon. */
export const REVIEW_READ_FIELDS = [
  ['Campaign', 'Type'],
  ['Campaign', 'Status'],
  ['Campaign', 'StartDate'],
  ['Campaign', 'EndDate'],
] as const;

export const INTEGRATION_PERMISSION_SET: PermissionSetSpec = {
  name: 'Smarketing_Sync_Integration',
  label: 'Smarketing Sync Integration',
  description: 'Object access and field-level security the Smarketing Sync integration user needs. Assign it to that user only.',
  userPermissions: ['ApiEnabled', 'EditTask'],
  objects: [
    objectAccess('Lead', true, true),
    objectAccess('Contact', true, true),
    objectAccess('Account', true, true),
    objectAccess('Opportunity', true, true),
    objectAccess('Campaign', true, true),
  ],
  fields: [
    ...SALESFORCE_CUSTOM_FIELDS.map((f) => ({ object: f.object, field: f.name, access: 'edit' as const })),
    // The revenue loop reads them (campaign cost, customer size). Standard fields too take
    // field-level security: an integration user with a minimum-access profile sees none of them.
    ...REVENUE_READ_FIELDS.map(([object, field]) => ({ object, field, access: 'read' as const })),
    ...REVIEW_READ_FIELDS.map(([object, field]) => ({ object, field, access: 'read' as const })),
  ],
};

/**
 * The sales users' permission set: a rep sees where a lead came from and its SLA (read on the
 * attribution, lifecycle and SLA fields) and gives feedback (edit on the feedback fields).
 */
export const SALES_PERMISSION_SET: PermissionSetSpec = {
  name: 'Smarketing_Sync_Sales',
  label: 'Smarketing Sync Sales Users',
  description:
    'Lets sales users see campaign-source attribution and the follow-up SLA, and give lead feedback. Assign it to sales reps and managers.',
  userPermissions: [],
  objects: [objectAccess('Lead', false, true), objectAccess('Contact', false, true), objectAccess('Opportunity', false, true)],
  fields: SALESFORCE_CUSTOM_FIELDS.map((f) => ({ object: f.object, field: f.name, access: f.salesAccess ?? 'read' })),
};
