/**
 * The standard objects of the sandbox org, with the default picklists of a fresh org (describe
 * them at install time rather than hard-coding these values; see docs/reference/salesforce-api.md §2).
 */
import { fields, objectDef, ownerlessFields, systemFields } from './field-builders.ts';
import type { FieldDef, ObjectDef } from './types.ts';

export interface LeadStatusRow {
  ApiName: string;
  MasterLabel: string;
  IsConverted: boolean;
  IsDefault: boolean;
  SortOrder: number;
}

export const LEAD_STATUSES: readonly LeadStatusRow[] = [
  { ApiName: 'Open - Not Contacted', MasterLabel: 'Open - Not Contacted', IsConverted: false, IsDefault: true, SortOrder: 1 },
  { ApiName: 'Working - Contacted', MasterLabel: 'Working - Contacted', IsConverted: false, IsDefault: false, SortOrder: 2 },
  { ApiName: 'Closed - Converted', MasterLabel: 'Closed - Converted', IsConverted: true, IsDefault: false, SortOrder: 3 },
  { ApiName: 'Closed - Not Converted', MasterLabel: 'Closed - Not Converted', IsConverted: false, IsDefault: false, SortOrder: 4 },
];

export interface OpportunityStageRow {
  ApiName: string;
  MasterLabel: string;
  IsActive: boolean;
  IsClosed: boolean;
  IsWon: boolean;
  DefaultProbability: number;
  ForecastCategoryName: string;
  SortOrder: number;
}

const stage = (name: string, probability: number, forecast: string, order: number, closed = false, won = false): OpportunityStageRow => ({
  ApiName: name,
  MasterLabel: name,
  IsActive: true,
  IsClosed: closed,
  IsWon: won,
  DefaultProbability: probability,
  ForecastCategoryName: forecast,
  SortOrder: order,
});

export const OPPORTUNITY_STAGES: readonly OpportunityStageRow[] = [
  stage('Prospecting', 10, 'Pipeline', 1),
  stage('Qualification', 10, 'Pipeline', 2),
  stage('Needs Analysis', 20, 'Pipeline', 3),
  stage('Value Proposition', 50, 'Pipeline', 4),
  stage('Id. Decision Makers', 60, 'Pipeline', 5),
  stage('Perception Analysis', 70, 'Pipeline', 6),
  stage('Proposal/Price Quote', 75, 'Pipeline', 7),
  stage('Negotiation/Review', 90, 'Pipeline', 8),
  stage('Closed Won', 100, 'Closed', 9, true, true),
  stage('Closed Lost', 0, 'Omitted', 10, true, false),
];

export const LEAD_SOURCES = [
  'Web',
  'Phone Inquiry',
  'Partner Referral',
  'Purchased List',
  'Other',
  'Advertisement',
  'Employee Referral',
  'External Referral',
  'Partner',
  'Public Relations',
  'Seminar - Internal',
  'Seminar - Partner',
  'Trade Show',
  'Word of mouth',
] as const;

const INDUSTRIES = [
  'Agriculture',
  'Banking',
  'Communications',
  'Consulting',
  'Education',
  'Finance',
  'Healthcare',
  'Manufacturing',
  'Media',
  'Retail',
  'Technology',
  'Other',
];
const SALUTATIONS = ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.', 'Mx.'];
const RATINGS = ['Hot', 'Warm', 'Cold'];

const address = (prefix: string, label: string) => [
  fields.textarea(`${prefix}Street`, `${label} Street`, 255),
  fields.text(`${prefix}City`, `${label} City`, 40),
  fields.text(`${prefix}State`, `${label} State/Province`, 80),
  fields.text(`${prefix}PostalCode`, `${label} Zip/Postal Code`, 20),
  fields.text(`${prefix}Country`, `${label} Country`, 80),
];

const lead = objectDef(
  'Lead',
  'Lead',
  'Leads',
  [
    fields.id(),
    fields.required('LastName', 'Last Name', 80),
    fields.text('FirstName', 'First Name', 40),
    fields.picklist('Salutation', 'Salutation', SALUTATIONS),
    fields.personName(),
    fields.text('Title', 'Title', 128),
    fields.required('Company', 'Company', 255),
    ...address('', 'Lead').map((f) => ({ ...f, label: f.label.replace('Lead ', '') })),
    fields.phone('Phone', 'Phone'),
    fields.phone('MobilePhone', 'Mobile Phone'),
    fields.email('Email', 'Email'),
    fields.url('Website', 'Website'),
    fields.textarea('Description', 'Description'),
    fields.picklist('LeadSource', 'Lead Source', LEAD_SOURCES),
    fields.picklist(
      'Status',
      'Lead Status',
      LEAD_STATUSES.map((s) => s.ApiName),
      {
        nillable: false,
        restrictedPicklist: true,
        defaultValue: 'Open - Not Contacted',
      },
    ),
    fields.picklist('Industry', 'Industry', INDUSTRIES),
    fields.picklist('Rating', 'Rating', RATINGS),
    fields.currency('AnnualRevenue', 'Annual Revenue'),
    fields.int('NumberOfEmployees', 'Employees'),
    fields.boolean('HasOptedOutOfEmail', 'Email Opt Out'),
    fields.boolean('IsConverted', 'Converted', false, { createable: false, updateable: false }),
    fields.date('ConvertedDate', 'Converted Date', { createable: false, updateable: false }),
    fields.reference('ConvertedAccountId', 'Converted Account ID', ['Account'], 'ConvertedAccount', {
      createable: false,
      updateable: false,
    }),
    fields.reference('ConvertedContactId', 'Converted Contact ID', ['Contact'], 'ConvertedContact', {
      createable: false,
      updateable: false,
    }),
    fields.reference('ConvertedOpportunityId', 'Converted Opportunity ID', ['Opportunity'], 'ConvertedOpportunity', {
      createable: false,
      updateable: false,
    }),
    fields.boolean('IsUnreadByOwner', 'Unread By Owner', true),
    // Set on a record deleted by a merge: the record that won (SOAP merge).
    fields.reference('MasterRecordId', 'Master Record ID', ['Lead'], 'MasterRecord', { createable: false, updateable: false }),
    fields.date('LastActivityDate', 'Last Activity', { createable: false, updateable: false }),
    ...systemFields({ owner: true }),
  ],
  {
    childRelationships: [
      { relationshipName: 'CampaignMembers', childSObject: 'CampaignMember', field: 'LeadId' },
      { relationshipName: 'Tasks', childSObject: 'Task', field: 'WhoId' },
    ],
  },
);

const contact = objectDef(
  'Contact',
  'Contact',
  'Contacts',
  [
    fields.id(),
    fields.reference('AccountId', 'Account ID', ['Account'], 'Account'),
    fields.required('LastName', 'Last Name', 80),
    fields.text('FirstName', 'First Name', 40),
    fields.picklist('Salutation', 'Salutation', SALUTATIONS),
    fields.personName(),
    fields.text('Title', 'Title', 128),
    fields.email('Email', 'Email'),
    fields.phone('Phone', 'Business Phone'),
    fields.phone('MobilePhone', 'Mobile Phone'),
    ...address('Mailing', 'Mailing'),
    fields.picklist('LeadSource', 'Lead Source', LEAD_SOURCES),
    fields.textarea('Description', 'Contact Description'),
    fields.reference('MasterRecordId', 'Master Record ID', ['Contact'], 'MasterRecord', { createable: false, updateable: false }),
    fields.boolean('HasOptedOutOfEmail', 'Email Opt Out'),
    fields.date('LastActivityDate', 'Last Activity', { createable: false, updateable: false }),
    ...systemFields({ owner: true }),
  ],
  {
    childRelationships: [
      { relationshipName: 'CampaignMembers', childSObject: 'CampaignMember', field: 'ContactId' },
      { relationshipName: 'Tasks', childSObject: 'Task', field: 'WhoId' },
    ],
  },
);

const account = objectDef(
  'Account',
  'Account',
  'Accounts',
  [
    fields.id(),
    fields.required('Name', 'Account Name', 255, { nameField: true }),
    fields.picklist('Type', 'Account Type', [
      'Prospect',
      'Customer - Direct',
      'Customer - Channel',
      'Channel Partner / Reseller',
      'Installation Partner',
      'Technology Partner',
      'Other',
    ]),
    fields.picklist('Industry', 'Industry', INDUSTRIES),
    fields.picklist('AccountSource', 'Account Source', LEAD_SOURCES),
    fields.url('Website', 'Website'),
    fields.phone('Phone', 'Account Phone'),
    ...address('Billing', 'Billing'),
    fields.currency('AnnualRevenue', 'Annual Revenue'),
    fields.int('NumberOfEmployees', 'Employees'),
    fields.textarea('Description', 'Account Description'),
    ...systemFields({ owner: true }),
  ],
  {
    childRelationships: [
      { relationshipName: 'Contacts', childSObject: 'Contact', field: 'AccountId' },
      { relationshipName: 'Opportunities', childSObject: 'Opportunity', field: 'AccountId' },
      { relationshipName: 'Tasks', childSObject: 'Task', field: 'WhatId' },
    ],
  },
);

const opportunity = objectDef(
  'Opportunity',
  'Opportunity',
  'Opportunities',
  [
    fields.id(),
    fields.reference('AccountId', 'Account ID', ['Account'], 'Account'),
    fields.required('Name', 'Name', 120, { nameField: true }),
    fields.picklist(
      'StageName',
      'Stage',
      OPPORTUNITY_STAGES.map((s) => s.ApiName),
      { nillable: false, restrictedPicklist: true },
    ),
    fields.date('CloseDate', 'Close Date', { nillable: false }),
    fields.currency('Amount', 'Amount'),
    fields.percent('Probability', 'Probability (%)', { defaultedOnCreate: true }),
    fields.picklist('Type', 'Opportunity Type', [
      'Existing Customer - Upgrade',
      'Existing Customer - Replacement',
      'Existing Customer - Downgrade',
      'New Customer',
    ]),
    fields.picklist('LeadSource', 'Lead Source', LEAD_SOURCES),
    fields.reference('CampaignId', 'Campaign ID', ['Campaign'], 'Campaign'),
    fields.derived(fields.boolean('IsClosed', 'Closed')),
    fields.derived(fields.boolean('IsWon', 'Won')),
    fields.derived(fields.picklist('ForecastCategoryName', 'Forecast Category', ['Omitted', 'Pipeline', 'Best Case', 'Commit', 'Closed'])),
    // The fiscal period of CloseDate in the default fiscal year (starting in January), e.g. "2026 3"
    // (field reference: Fiscal string 6, FiscalQuarter and FiscalYear int 8; record-rules.ts).
    fields.derived(fields.text('Fiscal', 'Fiscal Period', 6)),
    fields.derived({ ...fields.int('FiscalQuarter', 'Fiscal Quarter'), precision: 8 }),
    fields.derived({ ...fields.int('FiscalYear', 'Fiscal Year'), precision: 8 }),
    // Null until the stage changes after creation (record-rules.ts).
    fields.readOnly(fields.datetime('LastStageChangeDate', 'Last Stage Change Date')),
    fields.text('NextStep', 'Next Step', 255),
    fields.textarea('Description', 'Description'),
    ...systemFields({ owner: true }),
  ],
  {
    childRelationships: [{ relationshipName: 'Tasks', childSObject: 'Task', field: 'WhatId' }],
  },
);

const statistic = (name: string, label: string): FieldDef => ({
  ...fields.readOnly(fields.int(name, label)),
  precision: 9,
  nillable: false,
  defaultedOnCreate: true,
  defaultValue: 0,
});

const CAMPAIGN_STATISTICS: readonly FieldDef[] = [
  statistic('NumberOfLeads', 'Leads in Campaign'),
  statistic('NumberOfConvertedLeads', 'Converted Leads in Campaign'),
  statistic('NumberOfContacts', 'Contacts in Campaign'),
  statistic('NumberOfResponses', 'Responses in Campaign'),
  statistic('NumberOfOpportunities', 'Opportunities in Campaign'),
  statistic('NumberOfWonOpportunities', 'Won Opportunities in Campaign'),
  {
    ...fields.readOnly(fields.currency('AmountAllOpportunities', 'Value Opportunities in Campaign', { scale: 0 })),
    nillable: false,
    defaultedOnCreate: true,
    defaultValue: 0,
  },
  {
    ...fields.readOnly(fields.currency('AmountWonOpportunities', 'Value Won Opportunities in Campaign', { scale: 0 })),
    nillable: false,
    defaultedOnCreate: true,
    defaultValue: 0,
  },
];

const campaign = objectDef(
  'Campaign',
  'Campaign',
  'Campaigns',
  [
    fields.id(),
    fields.required('Name', 'Name', 80, { nameField: true }),
    fields.picklist('Type', 'Type', [
      'Advertisement',
      'Email',
      'Telemarketing',
      'Banner Ads',
      'Seminar / Conference',
      'Public Relations',
      'Partners',
      'Referral Program',
      'Webinar',
      'Trade Show',
      'Direct Mail',
      'Other',
    ]),
    fields.picklist('Status', 'Status', ['Planned', 'In Progress', 'Completed', 'Aborted'], { defaultValue: 'Planned' }),
    fields.boolean('IsActive', 'Active'),
    fields.date('StartDate', 'Start Date'),
    fields.date('EndDate', 'End Date'),
    fields.reference('ParentId', 'Parent Campaign ID', ['Campaign'], 'Parent'),
    fields.textarea('Description', 'Description'),
    // Cost and expectations an admin enters (Campaign object reference: currency fields of precision
    // 18 and scale 0, ExpectedResponse percent 10/2, NumberSent double 18/0; "Create, Filter,
    // Nillable, Sort, Update").
    fields.currency('BudgetedCost', 'Budgeted Cost in Campaign', { scale: 0 }),
    fields.currency('ActualCost', 'Actual Cost in Campaign', { scale: 0 }),
    fields.currency('ExpectedRevenue', 'Expected Revenue in Campaign', { scale: 0 }),
    fields.percent('ExpectedResponse', 'Expected Response (%)', { precision: 10, scale: 2 }),
    { ...fields.custom('NumberSent', 'Num Sent in Campaign', 'double'), precision: 18 },
    // The campaign statistics: read-only, kept by the platform from members and opportunities
    // (campaign-rollups.ts).
    ...CAMPAIGN_STATISTICS,
    ...systemFields({ owner: true }),
  ],
  {
    childRelationships: [
      { relationshipName: 'CampaignMembers', childSObject: 'CampaignMember', field: 'CampaignId' },
      { relationshipName: 'CampaignMemberStatuses', childSObject: 'CampaignMemberStatus', field: 'CampaignId' },
      { relationshipName: 'Opportunities', childSObject: 'Opportunity', field: 'CampaignId' },
    ],
  },
);

const campaignMember = objectDef('CampaignMember', 'Campaign Member', 'Campaign Members', [
  fields.id(),
  fields.reference('CampaignId', 'Campaign ID', ['Campaign'], 'Campaign', { nillable: false, updateable: false }),
  fields.reference('LeadId', 'Lead ID', ['Lead'], 'Lead', { updateable: false }),
  fields.reference('ContactId', 'Contact ID', ['Contact'], 'Contact', { updateable: false }),
  // Not a restricted picklist: the values a member may take are its campaign's CampaignMemberStatus
  // labels (campaign-rules.ts), and a member created without one gets the campaign's default.
  // Status is at most 40 characters (CampaignMember object reference).
  fields.picklist('Status', 'Status', ['Sent', 'Responded'], { length: 40 }),
  fields.derived(fields.boolean('HasResponded', 'Responded')),
  fields.date('FirstRespondedDate', 'First Responded Date', { createable: false, updateable: false }),
  ...systemFields({ owner: false }),
]);

/**
 * The member statuses of one campaign (CampaignMemberStatus object reference: CampaignId is set on
 * create only, Label is at most 765 characters, SortOrder is a unique number per campaign).
 */
const campaignMemberStatus = objectDef('CampaignMemberStatus', 'Campaign Member Status', 'Campaign Member Statuses', [
  fields.id(),
  fields.reference('CampaignId', 'Campaign ID', ['Campaign'], 'Campaign', { nillable: false, updateable: false }),
  fields.required('Label', 'Member Status', 765),
  fields.boolean('HasResponded', 'Responded'),
  fields.boolean('IsDefault', 'Is Default'),
  { ...fields.int('SortOrder', 'Sort Order'), precision: 9 },
  ...systemFields({ owner: false }),
]);

const task = objectDef('Task', 'Task', 'Tasks', [
  fields.id(),
  fields.text('Subject', 'Subject', 255),
  fields.picklist('Status', 'Status', ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'], {
    nillable: false,
    restrictedPicklist: true,
    defaultValue: 'Not Started',
  }),
  fields.picklist('Priority', 'Priority', ['High', 'Normal', 'Low'], { nillable: false, restrictedPicklist: true, defaultValue: 'Normal' }),
  fields.reference('WhoId', 'Name ID', ['Contact', 'Lead'], 'Who'),
  fields.reference('WhatId', 'Related To ID', ['Account', 'Opportunity', 'Campaign'], 'What'),
  fields.date('ActivityDate', 'Due Date Only'),
  fields.textarea('Description', 'Description'),
  fields.picklist('TaskSubtype', 'Task Subtype', ['Task', 'Email', 'Call'], { defaultValue: 'Task' }),
  fields.derived(fields.boolean('IsClosed', 'Closed')),
  ...systemFields({ owner: true }),
]);

const user = objectDef('User', 'User', 'Users', [
  fields.id(),
  fields.required('Username', 'Username', 80, { unique: true }),
  fields.required('LastName', 'Last Name', 80),
  fields.text('FirstName', 'First Name', 40),
  fields.personName(),
  { ...fields.email('Email', 'Email'), nillable: false },
  fields.required('Alias', 'Alias', 8),
  fields.text('Title', 'Title', 80),
  fields.text('Department', 'Department', 80),
  fields.boolean('IsActive', 'Active', true),
  // The Marketing User checkbox: creating, editing and deleting campaigns and their member statuses
  // needs it (campaign-rules.ts).
  fields.boolean('UserPermissionsMarketingUser', 'Marketing User'),
  fields.reference('ManagerId', 'Manager ID', ['User'], 'Manager'),
  fields.picklist('UserType', 'User Type', ['Standard'], { defaultValue: 'Standard', createable: false, updateable: false }),
  fields.picklist('TimeZoneSidKey', 'Time Zone', ['GMT', 'America/Los_Angeles', 'America/New_York', 'Europe/London', 'Europe/Paris'], {
    defaultValue: 'GMT',
  }),
  ...systemFields({ owner: false }),
]);

const metadataRow = (name: 'LeadStatus' | 'OpportunityStage', label: string, labelPlural: string, defs: ObjectDef['fields']): ObjectDef =>
  objectDef(name, label, labelPlural, ownerlessFields(defs), {
    createable: false,
    updateable: false,
    deletable: false,
  });

const leadStatus = metadataRow('LeadStatus', 'Lead Status Value', 'Lead Status Values', [
  fields.readOnly(fields.text('ApiName', 'Api Name')),
  fields.readOnly(fields.text('MasterLabel', 'Master Label')),
  fields.readOnly(fields.boolean('IsConverted', 'Is Converted')),
  fields.readOnly(fields.boolean('IsDefault', 'Is Default')),
  fields.readOnly(fields.int('SortOrder', 'Sort Order')),
]);

const opportunityStage = metadataRow('OpportunityStage', 'Opportunity Stage', 'Opportunity Stages', [
  fields.readOnly(fields.text('ApiName', 'Api Name')),
  fields.readOnly(fields.text('MasterLabel', 'Master Label')),
  fields.readOnly(fields.boolean('IsActive', 'Is Active')),
  fields.readOnly(fields.boolean('IsClosed', 'Is Closed')),
  fields.readOnly(fields.boolean('IsWon', 'Is Won')),
  fields.readOnly(fields.percent('DefaultProbability', 'Default Probability')),
  fields.readOnly(fields.text('ForecastCategoryName', 'Forecast Category Name')),
  fields.readOnly(fields.int('SortOrder', 'Sort Order')),
]);

/** Objects whose fields admins may extend through the Tooling API. */
export const CUSTOMIZABLE_OBJECTS = ['Lead', 'Contact', 'Account', 'Opportunity', 'Campaign', 'CampaignMember', 'Task'] as const;

export const STANDARD_OBJECTS: readonly ObjectDef[] = [
  lead,
  contact,
  account,
  opportunity,
  campaign,
  campaignMember,
  campaignMemberStatus,
  task,
  user,
  leadStatus,
  opportunityStage,
];
