import type { ObjectTypeName, PropertyDefinition, PropertyGroup, PropertyOption, PropertyType } from './model.ts';

/** HubSpot-defined properties and groups every sandbox portal starts with. */

const DEFINED_AT = Date.parse('2019-08-06T02:41:52.000Z');

interface PropertySeed {
  label: string;
  type?: PropertyType;
  fieldType?: string;
  options?: readonly (readonly [string, string])[];
  readOnly?: boolean;
  unique?: boolean;
  externalOptions?: boolean;
}

function options(pairs: readonly (readonly [string, string])[]): PropertyOption[] {
  return pairs.map(([value, label], index) => ({ label, value, displayOrder: index, hidden: false }));
}

const DEFAULT_FIELD_TYPE: Record<PropertyType, string> = {
  string: 'text',
  number: 'number',
  date: 'date',
  datetime: 'date',
  enumeration: 'select',
  bool: 'booleancheckbox',
};

function define(groupName: string, seeds: Record<string, PropertySeed>): PropertyDefinition[] {
  return Object.entries(seeds).map(([name, seed], index) => {
    const type = seed.type ?? 'string';
    return {
      name,
      label: seed.label,
      type,
      fieldType: seed.fieldType ?? DEFAULT_FIELD_TYPE[type],
      groupName,
      description: '',
      options: options(seed.options ?? []),
      displayOrder: index,
      hasUniqueValue: seed.unique ?? false,
      hidden: false,
      formField: !(seed.readOnly ?? false),
      hubspotDefined: true,
      calculated: seed.readOnly ?? false,
      externalOptions: seed.externalOptions ?? false,
      readOnlyValue: seed.readOnly ?? false,
      createdAt: DEFINED_AT,
      updatedAt: DEFINED_AT,
    };
  });
}

/** The default lifecycle stages, in their forward order. */
export const LIFECYCLE_STAGES = [
  ['subscriber', 'Subscriber'],
  ['lead', 'Lead'],
  ['marketingqualifiedlead', 'Marketing Qualified Lead'],
  ['salesqualifiedlead', 'Sales Qualified Lead'],
  ['opportunity', 'Opportunity'],
  ['customer', 'Customer'],
  ['evangelist', 'Evangelist'],
  ['other', 'Other'],
] as const;

const LEAD_STATUSES = [
  ['NEW', 'New'],
  ['OPEN', 'Open'],
  ['IN_PROGRESS', 'In Progress'],
  ['OPEN_DEAL', 'Open Deal'],
  ['UNQUALIFIED', 'Unqualified'],
  ['ATTEMPTED_TO_CONTACT', 'Attempted to Contact'],
  ['CONNECTED', 'Connected'],
  ['BAD_TIMING', 'Bad Timing'],
] as const;

/** Internal values of `hs_analytics_source` / `hs_latest_source`. */
export const TRAFFIC_SOURCES = [
  ['ORGANIC_SEARCH', 'Organic Search'],
  ['PAID_SEARCH', 'Paid Search'],
  ['EMAIL_MARKETING', 'Email Marketing'],
  ['SOCIAL_MEDIA', 'Organic Social'],
  ['REFERRALS', 'Referrals'],
  ['OTHER_CAMPAIGNS', 'Other Campaigns'],
  ['DIRECT_TRAFFIC', 'Direct Traffic'],
  ['OFFLINE', 'Offline Sources'],
  ['PAID_SOCIAL', 'Paid Social'],
  ['AI_REFERRALS', 'AI Referrals'],
] as const;

const DEAL_STAGES = [
  ['appointmentscheduled', 'Appointment Scheduled'],
  ['qualifiedtobuy', 'Qualified To Buy'],
  ['presentationscheduled', 'Presentation Scheduled'],
  ['decisionmakerboughtin', 'Decision Maker Bought-In'],
  ['contractsent', 'Contract Sent'],
  ['closedwon', 'Closed Won'],
  ['closedlost', 'Closed Lost'],
] as const;

const owner: PropertySeed = { label: 'Contact owner', type: 'enumeration', externalOptions: true };
const readOnlyDate = (label: string): PropertySeed => ({ label, type: 'datetime', readOnly: true });
const readOnlyText = (label: string): PropertySeed => ({ label, readOnly: true });
const lifecycle: PropertySeed = { label: 'Lifecycle Stage', type: 'enumeration', fieldType: 'radio', options: LIFECYCLE_STAGES };

const stageDates = Object.fromEntries(
  LIFECYCLE_STAGES.map(([value, label]) => [`hs_lifecyclestage_${value}_date`, readOnlyDate(`Became a ${label} Date`)]),
);

function contactProperties(): PropertyDefinition[] {
  return [
    ...define('contactinformation', {
      email: { label: 'Email', unique: true },
      firstname: { label: 'First Name' },
      lastname: { label: 'Last Name' },
      company: { label: 'Company Name' },
      phone: { label: 'Phone Number' },
      mobilephone: { label: 'Mobile Phone Number' },
      jobtitle: { label: 'Job Title' },
      website: { label: 'Website URL' },
      address: { label: 'Street Address' },
      city: { label: 'City' },
      state: { label: 'State/Region' },
      zip: { label: 'Postal Code' },
      country: { label: 'Country/Region' },
      message: { label: 'Message', fieldType: 'textarea' },
      lifecyclestage: lifecycle,
      hs_lead_status: { label: 'Lead Status', type: 'enumeration', fieldType: 'radio', options: LEAD_STATUSES },
      hubspot_owner_id: owner,
      createdate: readOnlyDate('Create Date'),
      lastmodifieddate: readOnlyDate('Last Modified Date'),
      hs_object_id: { label: 'Record ID', type: 'number', readOnly: true },
      hs_email_domain: readOnlyText('Email Domain'),
      // Calculated from the subscription preferences API (communication-preferences-routes.ts): read-only here.
      hs_email_optout: { label: 'Unsubscribed from all email', type: 'bool', readOnly: true },
      // Set by merges: the ids merged into this record, and the losing records' emails.
      hs_merged_object_ids: readOnlyText('Merged Contact IDs'),
      hs_additional_emails: readOnlyText('Additional email addresses'),
      notes_last_updated: readOnlyDate('Last Activity Date'),
      ...stageDates,
    }),
    ...define('analyticsinformation', {
      hs_analytics_source: { label: 'Original Source', type: 'enumeration', options: TRAFFIC_SOURCES },
      hs_analytics_source_data_1: readOnlyText('Original Source Drill-Down 1'),
      hs_analytics_source_data_2: readOnlyText('Original Source Drill-Down 2'),
      hs_analytics_first_url: readOnlyText('First Page Seen'),
      hs_analytics_first_referrer: readOnlyText('First Referring Site'),
      hs_analytics_first_timestamp: readOnlyDate('Time First Seen'),
      hs_analytics_last_url: readOnlyText('Last Page Seen'),
      hs_analytics_last_referrer: readOnlyText('Last Referring Site'),
      hs_analytics_last_timestamp: readOnlyDate('Time Last Seen'),
      hs_latest_source: { label: 'Latest Source', type: 'enumeration', options: TRAFFIC_SOURCES, readOnly: true },
      hs_latest_source_data_1: readOnlyText('Latest Source Drill-Down 1'),
      hs_latest_source_data_2: readOnlyText('Latest Source Drill-Down 2'),
      hs_latest_source_timestamp: readOnlyDate('Latest Source Date'),
    }),
    ...define('conversioninformation', {
      first_conversion_event_name: readOnlyText('First Conversion'),
      first_conversion_date: readOnlyDate('First Conversion Date'),
      recent_conversion_event_name: readOnlyText('Recent Conversion'),
      recent_conversion_date: readOnlyDate('Recent Conversion Date'),
      num_conversion_events: { label: 'Number of Form Submissions', type: 'number', readOnly: true },
      num_unique_conversion_events: { label: 'Number of Unique Forms Submitted', type: 'number', readOnly: true },
      hs_calculated_form_submissions: readOnlyText('Calculated Form Submissions'),
    }),
  ];
}

function companyProperties(): PropertyDefinition[] {
  return define('companyinformation', {
    name: { label: 'Company name' },
    domain: { label: 'Company Domain Name' },
    website: { label: 'Website URL' },
    phone: { label: 'Phone Number' },
    industry: { label: 'Industry' },
    city: { label: 'City' },
    country: { label: 'Country/Region' },
    numberofemployees: { label: 'Number of Employees', type: 'number' },
    annualrevenue: { label: 'Annual Revenue', type: 'number' },
    lifecyclestage: lifecycle,
    hubspot_owner_id: { ...owner, label: 'Company owner' },
    createdate: readOnlyDate('Create Date'),
    hs_lastmodifieddate: readOnlyDate('Last Modified Date'),
    hs_object_id: { label: 'Record ID', type: 'number', readOnly: true },
  });
}

function dealProperties(): PropertyDefinition[] {
  return define('dealinformation', {
    dealname: { label: 'Deal Name' },
    amount: { label: 'Amount', type: 'number' },
    dealstage: { label: 'Deal Stage', type: 'enumeration', fieldType: 'radio', options: DEAL_STAGES },
    pipeline: { label: 'Pipeline', type: 'enumeration', options: [['default', 'Sales Pipeline']] },
    closedate: { label: 'Close Date', type: 'datetime' },
    dealtype: {
      label: 'Deal Type',
      type: 'enumeration',
      fieldType: 'radio',
      options: [
        ['newbusiness', 'New Business'],
        ['existingbusiness', 'Existing Business'],
      ],
    },
    description: { label: 'Deal Description', fieldType: 'textarea' },
    closed_lost_reason: { label: 'Closed Lost Reason', fieldType: 'textarea' },
    closed_won_reason: { label: 'Closed Won Reason', fieldType: 'textarea' },
    hubspot_owner_id: { ...owner, label: 'Deal owner' },
    createdate: readOnlyDate('Create Date'),
    hs_lastmodifieddate: readOnlyDate('Last Modified Date'),
    hs_object_id: { label: 'Record ID', type: 'number', readOnly: true },
  });
}

function noteProperties(): PropertyDefinition[] {
  return define('engagement', {
    hs_timestamp: { label: 'Activity date', type: 'datetime' },
    hs_note_body: { label: 'Note body', fieldType: 'html' },
    hubspot_owner_id: { ...owner, label: 'Activity assigned to' },
    hs_attachment_ids: { label: 'Attachment IDs', fieldType: 'checkbox' },
    hs_createdate: readOnlyDate('Created at'),
    hs_lastmodifieddate: readOnlyDate('Last Modified Date'),
    hs_object_id: { label: 'Record ID', type: 'number', readOnly: true },
  });
}

/** Fresh copies of the default property catalog per object type. */
export function defaultProperties(): Record<ObjectTypeName, PropertyDefinition[]> {
  return { contacts: contactProperties(), companies: companyProperties(), deals: dealProperties(), notes: noteProperties() };
}

function groups(pairs: readonly (readonly [string, string])[]): PropertyGroup[] {
  return pairs.map(([name, label], index) => ({ name, label, displayOrder: index, archived: false }));
}

/** Fresh copies of the default property groups per object type. */
export function defaultGroups(): Record<ObjectTypeName, PropertyGroup[]> {
  return {
    contacts: groups([
      ['contactinformation', 'Contact information'],
      ['analyticsinformation', 'Web analytics history'],
      ['conversioninformation', 'Conversion information'],
    ]),
    companies: groups([['companyinformation', 'Company information']]),
    deals: groups([['dealinformation', 'Deal information']]),
    notes: groups([['engagement', 'Engagement']]),
  };
}
