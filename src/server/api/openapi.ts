/**
 * The OpenAPI 3.1 description of the admin API, served at `/api/openapi.json`: its paths, one
 * group per area, here; the schemas they refer to in `openapi-schemas.ts`. The settings bodies
 * are generated from the domain's zod schemas, so the document cannot drift from the validators.
 */
import { ApiBudgetSchema } from '../../domain/api-budget.ts';
import { queueKeys, queues } from '../../queue/catalog.ts';
import { REPORT_TABLES } from '../admin/report-export.ts';
import { SETTING_KEYS } from '../admin/settings.ts';
import { componentSchemas, direction, ref, schemaOf, type Json } from './openapi-schemas.ts';

const json = (schema: Json, description: string): Json => ({ description, content: { 'application/json': { schema } } });
const error = (description: string): Json => json(ref('Error'), description);
const idPath = { name: 'id', in: 'path', required: true, description: 'Installation id', schema: { type: 'string' } };
const alertView = {
  type: 'object',
  properties: {
    configured: { type: 'boolean', description: 'A target is stored (readable or not)' },
    url: {
      type: ['string', 'null'],
      description: 'Origin of the alert URL, e.g. https://hooks.example.com/…; null when none is stored or it cannot be read',
    },
    state: {
      type: 'string',
      enum: ['ok', 'none', 'unreadable'],
      description:
        'unreadable: stored but cannot be opened (another ENCRYPTION_KEY, damaged, or moved from another installation); no alert is sent until it is saved again',
    },
    problem: { type: ['string', 'null'], description: 'Why an unreadable target cannot be used, and the fix' },
  },
};
const directionBody = {
  required: false,
  content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { direction } } } },
  description: 'One direction; both when absent',
};
const common4xx = {
  '401': error('Not signed in, or a wrong bearer token'),
  '403': error("The caller's role does not include this route (forbidden), or a missing or wrong CSRF token (cookie sessions)"),
  '429': error('Too many wrong tokens from this address: see the Retry-After header'),
};
const roleInput = { type: 'string', enum: ['installation_admin', 'viewer'] };
const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: roleInput,
    invitedBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};
const invitationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: roleInput,
    invitedBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
  },
};
const queuePath = { name: 'queue', in: 'path', required: true, schema: { type: 'string' } };

function operation(summary: string, responses: Json, extra: Json = {}): Json {
  return { summary, responses: { ...responses, ...common4xx }, ...extra };
}

let cached: Json | undefined;

/** `from`, `to` and `groupBy` of the SLA compliance routes. */
const slaPeriodParameters: Json[] = [
  {
    name: 'from',
    in: 'query',
    schema: { type: 'string' },
    description: 'Handoffs from (ISO date or date-time, inclusive); default 30 days before to',
  },
  { name: 'to', in: 'query', schema: { type: 'string' }, description: 'Handoffs up to (exclusive); default now' },
  { name: 'groupBy', in: 'query', schema: { type: 'string', enum: ['owner', 'team', 'channel', 'campaign'], default: 'owner' } },
];

/** The pipeline review as `GET /review` answers it. */
const reviewSchema: Json = {
  type: 'object',
  required: [
    'installationId',
    'period',
    'generatedAt',
    'currency',
    'goal',
    'pipeline',
    'sources',
    'newCustomers',
    'losses',
    'agreement',
    'goals',
    'upcoming',
  ],
  properties: {
    installationId: { type: 'string' },
    period: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        kind: { enum: ['month', 'quarter'] },
        from: { type: 'string', format: 'date-time' },
        to: { type: 'string', format: 'date-time' },
      },
    },
    generatedAt: { type: 'string', format: 'date-time' },
    currency: { type: ['string', 'null'], description: 'ISO code of the corporate currency' },
    goal: {
      type: 'object',
      properties: {
        quarter: { type: 'string' },
        targetCents: { type: ['integer', 'null'] },
        closedCents: { type: 'integer' },
        share: { type: ['number', 'null'] },
        owner: { type: ['string', 'null'] },
      },
    },
    pipeline: {
      type: 'object',
      properties: {
        stages: {
          type: 'array',
          items: {
            type: 'object',
            properties: { stage: { type: 'string' }, deals: { type: 'integer' }, amountCents: { type: 'integer' } },
          },
        },
        totalDeals: { type: 'integer' },
        totalCents: { type: 'integer' },
      },
    },
    sources: { type: 'object', description: 'channels and campaigns: {key, wonDeals, wonCents, openDeals, openCents}' },
    newCustomers: { type: 'array', items: { type: 'object' } },
    losses: { type: 'object', description: "deals: the period's losses; reasons: per reason, deals and amountCents" },
    agreement: {
      type: 'object',
      description:
        'marketing: the commitments paced (null when they are per the other period kind); sales: the sales-side rules and per rep',
    },
    goals: { type: 'array', items: { type: 'object' } },
    upcoming: {
      type: 'object',
      properties: {
        campaigns: { type: 'array', items: { type: 'object' } },
        unavailable: {
          type: 'array',
          items: { type: 'object', properties: { source: { enum: ['salesforce', 'hubspot'] }, reason: { type: 'string' } } },
        },
      },
    },
  },
};

/** `/installations`, one installation, its commitments and goals. */
function installationPaths(): Json {
  return {
    '/installations': {
      get: operation('List installations', {
        '200': json({ type: 'object', properties: { installations: { type: 'array', items: ref('Installation') } } }, 'Installations'),
      }),
    },
    '/installations/{id}': {
      get: operation(
        "One installation, with its operator controls (paused directions), its alert target's state (an unreadable one with its fix) and the webhook endpoints to paste",
        {
          '200': json(
            {
              type: 'object',
              properties: {
                installation: ref('Installation'),
                controls: ref('Controls'),
                alert: alertView,
                endpoints: { type: 'object' },
              },
            },
            'Installation',
          ),
          '404': error('No such installation'),
        },
        { parameters: [idPath] },
      ),
    },
    '/installations/{id}/commitments': {
      get: operation(
        "Marketing's commitments paced in a period (viewers may read): per commitment the target, delivered so far, expected to date (target × elapsed share), a straight-line forecast and the status (too_early before 10 % of the period, then on_track from a forecast of 100 % of the target, at_risk from 85 %, behind below)",
        {
          '200': json(ref('CommitmentsReport'), 'Pacing'),
          '400': error('Bad period, or a period of the other kind than the commitments'),
          '404': error('No such installation'),
        },
        {
          parameters: [
            idPath,
            {
              name: 'period',
              in: 'query',
              schema: { type: 'string' },
              description: 'A month YYYY-MM or a quarter YYYY-Qn, as the commitments are set; default the current one (UTC)',
            },
          ],
        },
      ),
    },
    '/installations/{id}/goals': {
      get: operation(
        'The shared goal table of a quarter (viewers may read): per KPI the target, actual, owner, status (met, below, no_data) and trend against the previous quarter',
        { '200': json(ref('GoalsReport'), 'Goal table'), '400': error('Bad quarter'), '404': error('No such installation') },
        {
          parameters: [
            idPath,
            {
              name: 'quarter',
              in: 'query',
              schema: { type: 'string', pattern: '^\\d{4}-Q[1-4]$' },
              description: 'Default the current quarter (UTC)',
            },
          ],
        },
      ),
    },
  };
}

/** An installation's shared emails and its SLA compliance. */
function sharedEmailAndCompliancePaths(): Json {
  return {
    '/installations/{id}/shared-emails': {
      get: operation(
        'Linked records that share an email (viewers may read): reported, never merged by the app; each email with the HubSpot contact and Salesforce Lead or Contact of every link that has it',
        {
          '200': json(
            {
              type: 'object',
              properties: {
                sharedEmails: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      email: { type: 'string' },
                      records: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            hubspotContactId: { type: 'string' },
                            salesforceLeadId: { type: ['string', 'null'] },
                            salesforceContactId: { type: ['string', 'null'] },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            'Shared emails',
          ),
          '404': error('No such installation'),
        },
        { parameters: [idPath] },
      ),
    },
    '/installations/{id}/sla/compliance': {
      get: operation(
        'The sales side of the SLA for handoffs in [from, to) (viewers may read): per rule (first_touch, cadence, disposition, untouched) whether it is on, judged = kept + broken, pending and the rate, in total and per group (byRep holds the groups of groupBy)',
        {
          '200': json(
            {
              type: 'object',
              properties: {
                from: { type: 'string', format: 'date-time' },
                to: { type: 'string', format: 'date-time' },
                groupBy: { type: 'string' },
                sales: ref('SalesSide'),
              },
            },
            'Compliance',
          ),
          '400': error('Bad from, to or groupBy'),
          '404': error('No such installation'),
        },
        {
          parameters: [idPath, ...slaPeriodParameters],
        },
      ),
    },
  };
}

/** The handoffs that broke an SLA rule. */
function violationPaths(): Json {
  return {
    '/installations/{id}/sla/violations': {
      get: operation(
        'The handoffs in [from, to) that broke a sales-side SLA rule, in one group (or all), with links to the Salesforce Lead and the HubSpot contact (viewers may read)',
        {
          '200': json(
            {
              type: 'object',
              properties: {
                from: { type: 'string' },
                to: { type: 'string' },
                rule: { type: 'string' },
                groupBy: { type: 'string' },
                group: { type: ['string', 'null'] },
                violations: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      rule: { type: 'string' },
                      leadId: { type: 'string' },
                      leadName: { type: ['string', 'null'] },
                      contactId: { type: ['string', 'null'] },
                      owner: { type: 'string' },
                      team: { type: 'string' },
                      channel: { type: 'string' },
                      campaign: { type: 'string' },
                      handoffAt: { type: 'string' },
                      dueAt: { type: 'string' },
                      firstTouchAt: { type: ['string', 'null'] },
                      touches: { type: ['integer', 'null'] },
                      touchesRequired: { type: ['integer', 'null'] },
                      disposition: { type: ['string', 'null'] },
                      dispositionAt: { type: ['string', 'null'] },
                      salesforceUrl: { type: ['string', 'null'] },
                      hubspotUrl: { type: ['string', 'null'] },
                    },
                  },
                },
              },
            },
            'Violations',
          ),
          '400': error('Bad rule, group, from, to or groupBy'),
          '404': error('No such installation'),
        },
        {
          parameters: [
            idPath,
            ...slaPeriodParameters,
            {
              name: 'rule',
              in: 'query',
              required: true,
              schema: { type: 'string', enum: ['first_touch', 'cadence', 'disposition', 'untouched'] },
            },
            {
              name: 'group',
              in: 'query',
              schema: { type: 'string' },
              description: "A group key of groupBy as the compliance lists it (e.g. the rep's name, or (none)); absent: every group",
            },
          ],
        },
      ),
    },
  };
}

/** Pausing a direction and disconnecting a side. */
function pausePaths(): Json {
  return {
    '/installations/{id}/pause': {
      post: operation(
        'Pause the sync in one direction, or both: webhooks are still acknowledged and recorded and records marked pending; they wait until resumed',
        {
          '200': json({ type: 'object', properties: { controls: ref('Controls') } }, 'Paused (a repeated pause keeps its first time)'),
          '400': error('Unknown direction'),
          '404': error('No such installation'),
          '409': error('Uninstalled'),
        },
        { parameters: [idPath], requestBody: directionBody },
      ),
    },
    '/installations/{id}/connections/{side}/disconnect': {
      post: operation(
        'Disconnect one side: its stored grant is revoked and forgotten, the other stays; the sync waits (webhooks recorded, records kept pending) until the side is connected again through GET /oauth/{side}/install?installation={id}',
        {
          '200': json(
            {
              type: 'object',
              properties: {
                side: { type: 'string' },
                revoked: { type: ['boolean', 'null'], description: 'null: no grant was stored (environment token or sandbox)' },
                connections: { type: 'object' },
              },
            },
            'Disconnected',
          ),
          '400': error('Unknown side'),
          '404': error('No such installation'),
          '409': error('Uninstalled'),
        },
        {
          parameters: [idPath, { name: 'side', in: 'path', required: true, schema: { type: 'string', enum: ['hubspot', 'salesforce'] } }],
        },
      ),
    },
  };
}

/** Syncing a record now, the Salesforce budget, resuming. */
function syncNowAndBudgetPaths(): Json {
  return {
    '/installations/{id}/sync-now': {
      post: operation(
        'Sync one record now: marks it pending in the direction its side syncs to (a HubSpot contact to Salesforce, a Lead or Opportunity to HubSpot) and starts that drain; for a record whose webhook was lost',
        {
          '202': json(
            {
              type: 'object',
              properties: {
                direction,
                key: { type: 'string' },
                held: { type: 'boolean', description: 'The direction is paused or waiting: the record syncs when it runs again' },
              },
            },
            'Marked and the drain started',
          ),
          '400': error('No record'),
          '404': error('No such installation'),
          '409': error('Uninstalled'),
          '422': error('Not a record the sync takes'),
        },
        {
          parameters: [idPath],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['record'],
                  additionalProperties: false,
                  properties: {
                    record: {
                      type: 'string',
                      description:
                        'A HubSpot contact id, a Lead id (00Q…), an Opportunity id (006…), or a sync-log reference such as hubspot:contact:101',
                    },
                  },
                },
              },
            },
          },
        },
      ),
    },
    '/installations/{id}/salesforce-budget': {
      parameters: [idPath],
      put: operation(
        "Set the Salesforce API budget: the app's calls per rolling 24 h, as a share of the org's daily allowance or a number; at the budget drains wait until calls are available again, and the alert target hears at 80 % (once per period)",
        {
          '200': json({ type: 'object', properties: { controls: ref('Controls') } }, 'Saved'),
          '404': error('No such installation'),
          '415': error('Not JSON'),
          '422': error('Refused: issues lists every problem'),
        },
        {
          requestBody: { required: true, content: { 'application/json': { schema: schemaOf(ApiBudgetSchema) } } },
        },
      ),
      delete: operation('Remove the budget (calls are still counted and paced)', {
        '200': json({ type: 'object', properties: { controls: ref('Controls') } }, 'Removed'),
        '404': error('No such installation'),
      }),
    },
    '/installations/{id}/resume': {
      post: operation(
        'Resume the sync in one direction, or both: the waiting records are drained, oldest first',
        {
          '200': json({ type: 'object', properties: { controls: ref('Controls') } }, 'Resumed'),
          '400': error('Unknown direction'),
          '404': error('No such installation'),
          '409': error('Uninstalled'),
        },
        { parameters: [idPath], requestBody: directionBody },
      ),
    },
  };
}

/** Connections, provisioning and uninstalling. */
function provisioningPaths(): Json {
  return {
    '/installations/{id}/connections': {
      get: operation(
        'Connection status of HubSpot and Salesforce with API usage against limits',
        {
          '200': json({ type: 'object', properties: { hubspot: ref('Connection'), salesforce: ref('Connection') } }, 'Both sides'),
          '404': error('No such installation'),
        },
        { parameters: [idPath] },
      ),
    },
    '/installations/{id}/salesforce-feed': {
      get: operation(
        'How Salesforce changes arrive (the salesforceFeed setting) and, per change event channel the worker follows, its position (replay id), last event, lag and health',
        { '200': json(ref('SalesforceFeedStatus'), 'The mode and the channels'), '404': error('No such installation') },
        { parameters: [idPath] },
      ),
    },
    '/installations/{id}/provisioning/dry-run': {
      post: operation(
        'What provisioning would create (changes nothing)',
        { '200': json(ref('ProvisioningPlan'), 'The plan'), '404': error('No such installation'), '409': error('Uninstalled') },
        { parameters: [idPath] },
      ),
    },
    '/installations/{id}/provisioning': {
      post: operation(
        'Create what is missing (never changes or deletes existing fields)',
        { '200': json(ref('ProvisioningPlan'), 'What was created'), '404': error('No such installation'), '409': error('Uninstalled') },
        { parameters: [idPath] },
      ),
    },
    '/installations/{id}/uninstall': {
      post: operation(
        'Revoke the grants, forget the credentials and remove every queued job',
        {
          '200': json({ type: 'object' }, 'Done'),
          '400': error('confirm missing'),
          '404': error('No such installation'),
          '409': error('Already uninstalled'),
        },
        {
          parameters: [idPath],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { type: 'object', required: ['confirm'], properties: { confirm: { const: true } } } },
            },
          },
        },
      ),
    },
  };
}

/** An installation's settings. */
function settingsPaths(): Json {
  return {
    '/installations/{id}/settings': {
      get: operation(
        'Every setting in effect (stored or default)',
        { '200': json({ type: 'object', properties: { settings: { type: 'array', items: ref('SettingView') } } }, 'Settings') },
        { parameters: [idPath] },
      ),
    },
    '/installations/{id}/settings/{key}': {
      parameters: [idPath, { name: 'key', in: 'path', required: true, schema: { type: 'string', enum: [...SETTING_KEYS] } }],
      get: operation('One setting', { '200': json(ref('SettingView'), 'The setting'), '404': error('No such installation or key') }),
      put: operation(
        'Validate a setting, check its values against the live CRMs (picklist values, fields and properties exist and are writable) and save it; refused with every problem',
        {
          '200': json(ref('SettingCheck'), 'Saved (the normalised value), with what it changes'),
          '400': error('Malformed JSON'),
          '404': error('No such installation or key'),
          '415': error('Not JSON'),
          '422': error('Refused; issues lists every problem, each naming the value and where it is missing'),
          '503': error('The CRMs could not be asked'),
        },
        {
          requestBody: {
            required: true,
            description: `The body depends on {key}; see the schemas ${SETTING_KEYS.join(', ')}.`,
            content: { 'application/json': { schema: { oneOf: SETTING_KEYS.map((key) => ref(key)) } } },
          },
        },
      ),
      delete: operation('Reset to the default', { '204': { description: 'Reset' }, '404': error('No such installation or key') }),
    },
    '/installations/{id}/settings/{key}/preview': {
      parameters: [idPath, { name: 'key', in: 'path', required: true, schema: { type: 'string', enum: [...SETTING_KEYS] } }],
      post: operation(
        "Check a setting as PUT would (shape, then the values against the live CRMs) and say what saving it would change, counted from the app's records; nothing is saved",
        {
          '200': json(ref('SettingCheck'), 'Accepted, with the preview'),
          '400': error('Malformed JSON'),
          '404': error('No such installation or key'),
          '415': error('Not JSON'),
          '422': error('Refused; issues lists every problem, each naming the value and where it is missing'),
          '503': error('The CRMs could not be asked'),
        },
        {
          requestBody: { required: true, content: { 'application/json': { schema: { oneOf: SETTING_KEYS.map((key) => ref(key)) } } } },
        },
      ),
    },
  };
}

/** The SLA alert target, the sync log, the activity. */
function alertAndLogPaths(): Json {
  return {
    '/installations/{id}/alert': {
      parameters: [idPath],
      get: operation('Where SLA breach alerts go: the origin only, never the path or the secret', {
        '200': json(alertView, 'The alert target'),
      }),
      put: operation(
        'Save the alert target (sealed at rest); refused with every problem, and when the URL leads to a loopback, private, link-local or other non-public address',
        {
          '200': json(alertView, 'Saved'),
          '404': error('No such installation'),
          '415': error('Not JSON'),
          '422': error('Refused: issues lists every problem'),
        },
        {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['url', 'secret'],
                  additionalProperties: false,
                  properties: {
                    url: { type: 'string', format: 'uri', description: 'http(s) URL the signed JSON alert is POSTed to' },
                    secret: { type: 'string', minLength: 16, description: 'HMAC-SHA256 key of the x-smarketing-signature header' },
                  },
                },
              },
            },
          },
        },
      ),
      delete: operation('Turn SLA alerts off (breaches are still escalated with Salesforce Tasks)', {
        '204': { description: 'Removed' },
        '404': error('No such installation'),
      }),
    },
    '/installations/{id}/sync-log': {
      get: operation(
        'Per-record sync log: search by email, HubSpot id or Salesforce id',
        { '200': json({ type: 'object' }, 'Linked records and their log, newest first'), '400': error('q missing') },
        {
          parameters: [
            idPath,
            { name: 'q', in: 'query', required: true, schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 1000 } },
          ],
        },
      ),
    },
    '/installations/{id}/activity': {
      get: operation('Recent admin actions', { '200': json({ type: 'object' }, 'Actions') }, { parameters: [idPath] }),
    },
  };
}

/** Starting the background runs and reading their progress. */
function runPaths(): Json {
  return {
    '/installations/{id}/backfill': {
      parameters: [idPath],
      post: operation('Start the attribution backfill (or get the one running)', {
        '202': json({ type: 'object', properties: { runId: { type: 'string' }, progressUrl: { type: 'string' } } }, 'Started'),
        '409': error('Uninstalled'),
      }),
      get: operation('The latest backfill run', {
        '200': json({ type: 'object', properties: { run: { oneOf: [ref('BackfillProgress'), { type: 'null' }] } } }, 'Run'),
      }),
    },
    '/installations/{id}/field-fill': {
      parameters: [idPath],
      post: operation(
        'Fill the existing linked records for field mappings that started syncing or changed rule (or get the fill running: one per installation, it keeps its own pairs); each pair is written by its rule, as the live sync would',
        {
          '202': json(
            { type: 'object', properties: { runId: { type: 'string' }, progressUrl: { type: 'string' }, run: ref('FieldFillProgress') } },
            'Started',
          ),
          '400': error('A pair that is not {hubspotProperty, salesforceField}'),
          '404': error('No such installation'),
          '409': error('Uninstalled'),
        },
        {
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    pairs: {
                      type: 'array',
                      minItems: 1,
                      description: 'The mappings to fill; absent: every syncing mapping',
                      items: ref('MappingPair'),
                    },
                  },
                },
              },
            },
          },
        },
      ),
      get: operation('The latest field fill run', {
        '200': json({ type: 'object', properties: { run: { oneOf: [ref('FieldFillProgress'), { type: 'null' }] } } }, 'Run'),
        '404': error('No such installation'),
      }),
    },
    '/installations/{id}/initial-sync': {
      parameters: [idPath],
      post: operation(
        'Start the initial sync (or get the one running): links existing contacts and Leads/Contacts by external id and email, brings stages forward into agreement and stamps attribution; creates no Lead or contact for historical records',
        {
          '202': json({ type: 'object', properties: { runId: { type: 'string' }, progressUrl: { type: 'string' } } }, 'Started'),
          '400': error('A body with fields (the start takes none)'),
          '404': error('No such installation'),
          '409': error('Uninstalled'),
        },
        {
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false } } } },
        },
      ),
      get: operation('The latest initial sync run', {
        '200': json({ type: 'object', properties: { run: { oneOf: [ref('InitialSyncProgress'), { type: 'null' }] } } }, 'Run'),
        '404': error('No such installation'),
      }),
    },
  };
}

/** Any run's progress, and the operator's keys, queues and failed jobs. */
function operatorPaths(): Json {
  return {
    '/backfill/{runId}': {
      get: operation(
        'Progress of a backfill run (attribution backfill, initial sync or field fill, told apart by kind)',
        {
          '200': json({ oneOf: [ref('BackfillProgress'), ref('InitialSyncProgress'), ref('FieldFillProgress')] }, 'Progress'),
          '400': error('Not a run id'),
          '404': error('No such run'),
        },
        { parameters: [{ name: 'runId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }] },
      ),
    },
    '/credentials/reseal': {
      post: operation('Seal every stored grant again with the current ENCRYPTION_KEY (the last step of a key rotation)', {
        '200': json({ type: 'object', properties: { resealed: { type: 'integer' } } }, 'How many grants'),
      }),
    },
    '/queues': {
      get: operation('Jobs per state in every queue', {
        '200': json({ type: 'object', properties: { queues: { type: 'array', items: ref('QueueDepth') } } }, 'Depths'),
      }),
    },
    '/jobs/failed': {
      get: operation(
        'Failed jobs with their error, newest first',
        {
          '200': json({ type: 'object', properties: { jobs: { type: 'array', items: ref('FailedJob') } } }, 'Jobs'),
          '404': error('No such queue'),
        },
        {
          parameters: [
            { name: 'queue', in: 'query', schema: { type: 'string', enum: queueKeys.flatMap((key) => [key, queues[key].name]) } },
            { name: 'installation', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 500 } },
          ],
        },
      ),
    },
    '/jobs/{queue}/{jobId}/replay': {
      post: operation(
        'Replay one failed job (its attempts start again)',
        { '200': json({ type: 'object' }, 'Replayed'), '404': error('No such queue or job'), '409': error('The job is not failed') },
        {
          parameters: [
            { name: 'queue', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'jobId', in: 'path', required: true, schema: { type: 'string' } },
          ],
        },
      ),
    },
    '/jobs/{queue}/replay-failed': {
      post: operation(
        'Replay every failed job of a queue (optionally of one installation)',
        { '200': json({ type: 'object', properties: { replayed: { type: 'integer' } } }, 'How many'), '404': error('No such queue') },
        {
          parameters: [{ name: 'queue', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: {
            content: { 'application/json': { schema: { type: 'object', properties: { installationId: { type: 'string' } } } } },
          },
        },
      ),
    },
  };
}

/** The funnel report. */
function reportPaths(): Json {
  return {
    '/report': {
      get: operation(
        'The funnel report per channel and campaign (JSON, or one table as CSV)',
        {
          '200': {
            description: 'Report',
            content: { 'application/json': { schema: ref('FunnelReport') }, 'text/csv': { schema: { type: 'string' } } },
          },
          '400': error('Bad period'),
          '404': error('No such installation'),
        },
        {
          parameters: [
            {
              name: 'installation',
              in: 'query',
              schema: { type: 'string' },
              description: 'Default: the first installation the caller may see',
            },
            {
              name: 'from',
              in: 'query',
              schema: { type: 'string', format: 'date' },
              description: 'Inclusive (UTC); default 89 days before to',
            },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date' }, description: 'Inclusive (UTC); default today' },
            { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'] } },
            {
              name: 'table',
              in: 'query',
              schema: { type: 'string', enum: [...REPORT_TABLES] },
              description: 'Which table the CSV holds',
            },
          ],
        },
      ),
    },
  };
}

/** The pipeline review. */
function reviewPaths(): Json {
  return {
    '/review': {
      get: operation(
        "The pipeline review of a month or quarter (viewers may read): the quarter's revenue goal against closed revenue, open pipeline by stage, won revenue and open pipeline by first-touch channel and campaign, new customers with win reason, losses with reasons, both sides of the SLA, the goal table, and campaigns starting in the next 30 days (a CRM that cannot list them is named in upcoming.unavailable). Money in integer cents of the org currency.",
        {
          '200': json(reviewSchema, 'Review'),
          '400': error('Missing installation, or a period that is not a month YYYY-MM or a quarter YYYY-Qn'),
          '404': error('No such installation (or one the caller may not see)'),
        },
        {
          parameters: [
            { name: 'installation', in: 'query', required: true, schema: { type: 'string' } },
            {
              name: 'period',
              in: 'query',
              schema: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2]|Q[1-4])$' },
              description: 'A month YYYY-MM or a quarter YYYY-Qn; default the current quarter (UTC)',
            },
          ],
        },
      ),
    },
  };
}

/** This document, the caller, signing out everywhere. */
function callerPaths(): Json {
  return {
    '/openapi.json': { get: operation('This document', { '200': json({ type: 'object' }, 'OpenAPI 3.1') }) },
    '/me': {
      get: operation('Who is calling: role, name and (for an invited user) their installation', {
        '200': json(
          {
            type: 'object',
            properties: {
              role: { type: 'string', enum: ['operator', 'installation_admin', 'viewer'] },
              name: { type: 'string' },
              installationId: { type: ['string', 'null'] },
              via: { type: 'string', enum: ['session', 'bearer'] },
            },
          },
          'The caller',
        ),
      }),
    },
    '/sessions/sign-out-everywhere': {
      post: operation("End every session of the caller: all operator sessions (operator), or all of the user's", {
        '200': json({ type: 'object', properties: { ended: { type: 'integer' } } }, 'How many sessions ended'),
      }),
    },
  };
}

/** An installation's users and invitations. */
function peoplePaths(): Json {
  return {
    '/installations/{id}/users': {
      get: operation(
        'The users of an installation and its pending invitations (installation admin)',
        {
          '200': json(
            {
              type: 'object',
              properties: { users: { type: 'array', items: userSchema }, invitations: { type: 'array', items: invitationSchema } },
            },
            'People',
          ),
          '404': error('No such installation'),
        },
        { parameters: [idPath] },
      ),
    },
    '/installations/{id}/users/{userId}': {
      delete: operation(
        'Revoke a user: their sessions end at once (installation admin)',
        { '204': { description: 'Revoked' }, '404': error('No such installation or user') },
        {
          parameters: [idPath, { name: 'userId', in: 'path', required: true, schema: { type: 'string' } }],
        },
      ),
    },
    '/installations/{id}/invitations': {
      post: operation(
        'Invite someone to an installation: a link that works once, for 72 hours (installation admin)',
        {
          '201': json(
            {
              type: 'object',
              properties: { invitation: invitationSchema, url: { type: 'string', description: 'The invitation link, shown only now' } },
            },
            'Invitation',
          ),
          '400': error('Missing name or unknown role'),
          '404': error('No such installation'),
        },
        {
          parameters: [idPath],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['name', 'role'],
                  properties: { name: { type: 'string', maxLength: 120, description: 'Who the invitation is for' }, role: roleInput },
                },
              },
            },
          },
        },
      ),
    },
    '/installations/{id}/invitations/{invitationId}': {
      delete: operation(
        'Cancel a pending invitation (installation admin)',
        { '204': { description: 'Cancelled' }, '404': error('No such installation or pending invitation') },
        {
          parameters: [idPath, { name: 'invitationId', in: 'path', required: true, schema: { type: 'string' } }],
        },
      ),
    },
  };
}

/** An installation's failed jobs and their replays. */
function installationJobPaths(): Json {
  return {
    '/installations/{id}/jobs/failed': {
      get: operation(
        "The installation's failed jobs with their error, newest first (installation admin)",
        {
          '200': json({ type: 'object', properties: { jobs: { type: 'array', items: ref('FailedJob') } } }, 'Jobs'),
          '404': error('No such installation or queue'),
        },
        {
          parameters: [
            idPath,
            { name: 'queue', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 500 } },
          ],
        },
      ),
    },
    '/installations/{id}/jobs/{queue}/{jobId}/replay': {
      post: operation(
        'Replay one failed job of the installation (installation admin)',
        {
          '200': json({ type: 'object' }, 'Replayed'),
          '404': error('No such installation, queue or job of this installation'),
          '409': error('The job is not failed'),
        },
        {
          parameters: [idPath, queuePath, { name: 'jobId', in: 'path', required: true, schema: { type: 'string' } }],
        },
      ),
    },
    '/installations/{id}/jobs/{queue}/replay-failed': {
      post: operation(
        'Replay every failed job of a queue for the installation (installation admin)',
        {
          '200': json({ type: 'object', properties: { replayed: { type: 'integer' } } }, 'How many'),
          '404': error('No such installation or queue'),
        },
        {
          parameters: [idPath, queuePath],
        },
      ),
    },
  };
}

/** The document (built once). */
export function openApiDocument(): Json {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'Smarketing Sync admin API',
      version: '1.0.0',
      description:
        'Everything the admin dashboard does. Authenticate with the dashboard session cookie (state-changing calls then need the X-CSRF-Token header, from the page\'s csrf-token meta tag) or with "Authorization: Bearer <ADMIN_TOKEN>". Roles: the operator (ADMIN_TOKEN) reaches every route; an installation admin (invited) the /installations/{id}/… routes of their installation; a viewer (invited) /report, /installations/{id}/commitments, /installations/{id}/goals and /installations/{id}/sla/* of their installation, /installations (filtered), /me and the sign-outs. Another installation\'s id answers 404 as if it did not exist; a route outside the role answers 403. Ten wrong tokens from one address in 15 minutes lock it out (429 with Retry-After). Errors are {error, message, issues?} with a 4xx status.',
    },
    servers: [{ url: '/api' }],
    security: [{ bearer: [] }, { session: [] }],
    paths: {
      ...installationPaths(),
      ...sharedEmailAndCompliancePaths(),
      ...violationPaths(),
      ...pausePaths(),
      ...syncNowAndBudgetPaths(),
      ...provisioningPaths(),
      ...settingsPaths(),
      ...alertAndLogPaths(),
      ...runPaths(),
      ...operatorPaths(),
      ...reportPaths(),
      ...reviewPaths(),
      ...callerPaths(),
      ...peoplePaths(),
      ...installationJobPaths(),
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN' },
        session: { type: 'apiKey', in: 'cookie', name: 'smk_admin', description: 'Dashboard session (sign in at /admin/login)' },
      },
      schemas: componentSchemas(),
    },
  };
  return cached;
}
