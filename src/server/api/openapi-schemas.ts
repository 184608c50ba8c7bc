/** The `components.schemas` of the admin API's OpenAPI document, one section per area. */
import { z } from 'zod';
import { ApiBudgetSchema } from '../../domain/api-budget.ts';
import { ChannelRulesSchema } from '../../domain/channels.ts';
import { FeedbackTaxonomySchema } from '../../domain/feedback.ts';
import { PrivacyPolicySchema } from '../../domain/consent.ts';
import { SlaPolicySchema } from '../../domain/sla.ts';
import { MarketingCommitmentsSchema } from '../../domain/commitments.ts';
import { SharedGoalsSchema } from '../../domain/goals.ts';
import { ReviewDigestSchema } from '../../domain/digest.ts';
import { OwnerMatchingSchema } from '../../domain/owners.ts';
import { DeletionPolicySchema } from '../../domain/record-identity.ts';
import { CHANGE_FEED_MODES, ChangeFeedSettingSchema } from '../../domain/change-feed.ts';
import { FEED_STATES } from '../../store/salesforce-feeds.ts';
import { RevenuePolicySchema } from '../../domain/revenue.ts';
import { FieldMappingListSchema, StageDictionarySchema } from '../../domain/stages.ts';
import { CREDIT_MODELS } from '../../domain/attribution-credit.ts';
import { SETTING_KEYS } from '../admin/settings.ts';

export type Json = Record<string, unknown>;

/** The JSON Schema of a zod schema, as the document embeds it (input side, no `$schema`). */
export function schemaOf(schema: z.ZodType): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as Json;
  return rest;
}

/** A sync direction, as the pause and resume bodies and the controls name it. */
export const direction = {
  type: 'string',
  enum: ['to-salesforce', 'to-hubspot'],
  description: 'to-salesforce: HubSpot contacts → Salesforce; to-hubspot: Salesforce records → HubSpot',
};

/** A reference to one of the schemas below. */
export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** The operator controls, errors, installations and connections. */
function coreSchemas(): Json {
  return {
    Controls: {
      type: 'object',
      properties: {
        paused: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              direction: direction,
              pausedAt: { type: 'string', format: 'date-time' },
              pausedBy: { type: 'string', enum: ['dashboard', 'api'] },
            },
          },
        },
        salesforceBudget: {
          type: 'object',
          properties: {
            budget: { oneOf: [schemaOf(ApiBudgetSchema), { type: 'null' }] },
            used: { type: 'integer', description: "The app's Salesforce calls in the last 24 h" },
            limit: {
              type: ['integer', 'null'],
              description: 'The budget in calls (null: none, or a percentage of an allowance not learned yet)',
            },
            dailyAllowance: { type: ['integer', 'null'], description: "The org's daily API allowance, from its last answer" },
          },
        },
      },
    },
    Error: {
      type: 'object',
      required: ['error', 'message'],
      properties: { error: { type: 'string' }, message: { type: 'string' }, issues: { type: 'array', items: { type: 'string' } } },
    },
    Installation: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        hubspotPortalId: { type: ['string', 'null'] },
        salesforceOrgId: { type: ['string', 'null'] },
        status: { enum: ['active', 'uninstalled'] },
        hasHubSpotCredentials: { type: 'boolean' },
        hasSalesforceCredentials: { type: 'boolean' },
        createdAt: { type: 'string', format: 'date-time' },
        uninstalledAt: { type: ['string', 'null'], format: 'date-time' },
      },
    },
    Connection: {
      type: 'object',
      properties: {
        side: { enum: ['hubspot', 'salesforce'] },
        state: { enum: ['connected', 'not_connected', 'error'] },
        via: { enum: ['oauth', 'environment', 'sandbox', 'none'] },
        account: { type: ['string', 'null'] },
        detail: { type: 'string' },
        error: { type: ['string', 'null'] },
        canConnect: { type: 'boolean' },
        usage: {
          type: 'array',
          items: { type: 'object', properties: { name: { type: 'string' }, used: { type: 'number' }, max: { type: 'number' } } },
        },
        disconnectedAt: {
          type: ['string', 'null'],
          format: 'date-time',
          description: 'When an admin disconnected this side (the sync waits until it is connected again)',
        },
      },
    },
  };
}

/** What provisioning creates or finds. */
function provisioningSchemas(): Json {
  return {
    ProvisioningPlan: {
      type: 'object',
      description:
        "Each section is {ok: true, items: [{…, status}]} or {ok: false, error}. status: exists | missing | created | manual | conflict. salesforceAccess lists the integration user's permission set, assignment, system permissions, Marketing User, object and field access (kind, name, needs, status, fix), proven by describe as that user, with ready and the sales users' set. ready: the sync can run (every field exists and is readable and updateable by the integration user).",
      properties: {
        installationId: { type: 'string' },
        dryRun: { type: 'boolean' },
        hubspotProperties: { type: 'object' },
        salesforceFields: { type: 'object' },
        leadStatuses: {
          type: 'object',
          description:
            'The Lead Status values the stage dictionary names, found in the Lead Status picklist (exists) or to be added by an admin in Setup (manual).',
          properties: {
            ok: { type: 'boolean' },
            items: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  value: { type: 'string' },
                  stages: { type: 'array', items: { type: 'string' } },
                  writtenByTheApp: { type: 'boolean' },
                  status: { enum: ['exists', 'manual'] },
                },
              },
            },
          },
        },
        salesforceAccess: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' },
            ready: { type: 'boolean' },
            integrationUserId: { type: 'string' },
            errors: { type: 'array', items: { type: 'string' } },
            items: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  kind: { enum: ['permission-set', 'assignment', 'system-permission', 'object', 'field', 'user-flag'] },
                  name: { type: 'string' },
                  needs: { type: 'string' },
                  status: { enum: ['exists', 'missing', 'created', 'manual'] },
                  fix: { type: ['string', 'null'] },
                },
              },
            },
            sales: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                label: { type: 'string' },
                status: { type: 'string' },
                assignees: { type: 'integer' },
                fix: { type: 'string' },
              },
            },
          },
        },
        hubspotWebhooks: { type: 'object' },
        outboundMessages: { type: 'object' },
        counts: { type: 'object' },
        ready: { type: 'boolean' },
      },
    },
  };
}

/** Settings as read and checked, and the first settings bodies (from the domain validators). */
function settingSchemas(): Json {
  return {
    SettingCheck: {
      type: 'object',
      properties: {
        key: { enum: [...SETTING_KEYS] },
        value: {},
        crmCheck: {
          type: 'object',
          properties: {
            checked: { type: 'boolean' },
            reason: { type: 'string', description: 'Why the values were not checked (no CRM connected)' },
          },
        },
        preview: {
          type: 'object',
          properties: {
            changed: { type: 'boolean' },
            restampOffered: {
              type: 'boolean',
              description: 'Recorded touches were classified by the old channel rules: POST /installations/{id}/backfill re-stamps them',
            },
            fillOffered: {
              type: 'boolean',
              description:
                'Field mappings start syncing or change rule: POST /installations/{id}/field-fill with fillPairs fills the existing records',
            },
            fillPairs: { type: 'array', items: ref('MappingPair'), description: 'The mappings that start syncing or change rule' },
            lines: {
              type: 'array',
              items: {
                type: 'object',
                properties: { level: { enum: ['info', 'warn'] }, count: { type: 'integer' }, text: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    SettingView: {
      type: 'object',
      properties: {
        key: { enum: [...SETTING_KEYS] },
        label: { type: 'string' },
        description: { type: 'string' },
        value: {},
        isDefault: { type: 'boolean' },
        problems: { type: 'array', items: { type: 'string' } },
      },
    },
    stageDictionary: schemaOf(StageDictionarySchema),
    fieldMappings: schemaOf(FieldMappingListSchema),
    channelRules: schemaOf(ChannelRulesSchema),
    feedbackTaxonomy: schemaOf(FeedbackTaxonomySchema),
    slaPolicy: schemaOf(SlaPolicySchema),
    revenuePolicy: schemaOf(RevenuePolicySchema),
    marketingCommitments: schemaOf(MarketingCommitmentsSchema),
  };
}

/** The sales side of the SLA and marketing's commitments. */
function agreementSchemas(): Json {
  return {
    SalesSide: {
      type: 'object',
      properties: {
        handedOff: { type: 'integer' },
        rules: { type: 'array', items: ref('SalesRuleFigures') },
        medianHoursToFirstTouch: { type: ['number', 'null'] },
        byRep: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              key: { type: 'string' },
              handedOff: { type: 'integer' },
              rules: { type: 'array', items: ref('SalesRuleFigures') },
            },
          },
        },
      },
    },
    SalesRuleFigures: {
      type: 'object',
      properties: {
        rule: { type: 'string', enum: ['first_touch', 'cadence', 'disposition', 'untouched'] },
        enabled: { type: 'boolean' },
        judged: { type: 'integer' },
        kept: { type: 'integer' },
        broken: { type: 'integer' },
        pending: { type: 'integer' },
        rate: { type: ['number', 'null'], description: 'kept / judged' },
      },
    },
    CommitmentsReport: {
      type: 'object',
      properties: {
        installationId: { type: 'string' },
        period: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            kind: { type: 'string', enum: ['month', 'quarter'] },
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
          },
        },
        asOf: { type: 'string', format: 'date-time' },
        commitments: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              key: { type: 'string' },
              metric: { type: 'string', enum: ['mqls_delivered', 'sqls_accepted', 'pipeline_created'] },
              channel: { type: ['string', 'null'] },
              target: { type: 'number' },
              delivered: { type: 'number', description: 'Contacts, or for pipeline an amount in the corporate currency' },
              elapsedShare: { type: 'number' },
              expectedToDate: { type: 'number' },
              forecast: { type: 'number' },
              forecastShare: { type: 'number' },
              status: { type: 'string', enum: ['too_early', 'on_track', 'at_risk', 'behind'] },
            },
          },
        },
      },
    },
  };
}

/** The goal table, and the remaining settings bodies (from the domain validators). */
function goalSchemas(): Json {
  return {
    GoalsReport: {
      type: 'object',
      properties: {
        installationId: { type: 'string' },
        quarter: { type: 'string' },
        previousQuarter: { type: 'string' },
        asOf: { type: 'string', format: 'date-time' },
        goals: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              kpi: {
                type: 'string',
                enum: ['revenue', 'pipeline_coverage', 'mql_to_sql', 'sql_to_won', 'win_rate', 'hours_to_first_touch'],
              },
              unit: { type: 'string', enum: ['amount', 'multiple', 'percent', 'hours'] },
              owner: { type: 'string' },
              target: { type: 'number' },
              actual: { type: ['number', 'null'] },
              previous: { type: ['number', 'null'] },
              trend: { type: ['string', 'null'], enum: ['better', 'worse', 'same', null] },
              status: { type: 'string', enum: ['met', 'below', 'no_data'] },
            },
          },
        },
      },
    },
    sharedGoals: schemaOf(SharedGoalsSchema),
    reviewDigest: schemaOf(ReviewDigestSchema),
    ownerMatching: schemaOf(OwnerMatchingSchema),
    privacyPolicy: schemaOf(PrivacyPolicySchema),
    deletionPolicy: schemaOf(DeletionPolicySchema),
    hubspotChangeFeed: schemaOf(ChangeFeedSettingSchema),
    salesforceFeed: schemaOf(ChangeFeedSettingSchema),
    SalesforceFeedStatus: {
      type: 'object',
      properties: {
        mode: { type: 'string', enum: [...CHANGE_FEED_MODES] },
        channels: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              channel: { type: 'string', description: 'e.g. /data/LeadChangeEvent' },
              state: { type: 'string', enum: [...FEED_STATES] },
              message: { type: ['string', 'null'] },
              replayId: { type: ['string', 'null'], description: 'The stored position (hex); null before the first event' },
              lastEventAt: { type: ['string', 'null'], format: 'date-time', description: 'Commit time of the last event taken' },
              lagSeconds: { type: ['number', 'null'], description: 'How long after its commit the last event was taken' },
              updatedAt: { type: 'string', format: 'date-time' },
            },
          },
        },
      },
    },
  };
}

/** Queues, failed jobs, the initial sync. */
function jobSchemas(): Json {
  return {
    QueueDepth: {
      type: 'object',
      properties: {
        key: { type: 'string' },
        name: { type: 'string' },
        waiting: { type: 'integer' },
        active: { type: 'integer' },
        delayed: { type: 'integer' },
        failed: { type: 'integer' },
        completed: { type: 'integer' },
      },
    },
    FailedJob: {
      type: 'object',
      properties: {
        queue: { type: 'string' },
        queueName: { type: 'string' },
        id: { type: 'string' },
        installationId: { type: ['string', 'null'] },
        error: { type: 'string' },
        attemptsMade: { type: 'integer' },
        attempts: { type: 'integer' },
        failedAt: { type: ['string', 'null'] },
      },
    },
    InitialSyncProgress: {
      type: 'object',
      properties: {
        kind: { const: 'initial' },
        runId: { type: 'string' },
        status: { enum: ['queued', 'running', 'completed', 'failed'] },
        phase: { enum: ['contacts', 'leads', 'revenue', 'done'] },
        done: { type: 'integer' },
        total: { type: ['integer', 'null'] },
        ratePerS: { type: 'number' },
        etaS: { type: ['integer', 'null'] },
        linked: { type: 'integer' },
        stagesAligned: { type: 'integer' },
        unmatched: {
          type: 'integer',
          description: 'Historical records left unmatched on purpose: no Lead or contact is created for them',
        },
        stampedContacts: { type: 'integer' },
        stampedLeads: { type: 'integer' },
        failed: { type: 'integer' },
        error: { type: ['string', 'null'] },
      },
    },
  };
}

/** The backfill and field fill runs. */
function runSchemas(): Json {
  return {
    BackfillProgress: {
      type: 'object',
      properties: {
        kind: { type: 'string' },
        runId: { type: 'string' },
        status: { enum: ['queued', 'running', 'completed', 'failed'] },
        phase: { type: 'string' },
        done: { type: 'integer' },
        total: { type: ['integer', 'null'] },
        ratePerS: { type: 'number' },
        etaS: { type: ['integer', 'null'] },
        error: { type: ['string', 'null'] },
      },
    },
    MappingPair: {
      type: 'object',
      additionalProperties: false,
      required: ['hubspotProperty', 'salesforceField'],
      properties: { hubspotProperty: { type: 'string' }, salesforceField: { type: 'string' } },
    },
    FieldFillProgress: {
      type: 'object',
      properties: {
        kind: { const: 'field-fill' },
        runId: { type: 'string' },
        status: { enum: ['queued', 'running', 'completed', 'failed'] },
        done: { type: 'integer', description: 'Linked records walked' },
        total: { type: ['integer', 'null'] },
        ratePerS: { type: 'number' },
        etaS: { type: ['integer', 'null'] },
        filledContacts: { type: 'integer' },
        filledLeads: { type: 'integer' },
        failed: { type: 'integer' },
        error: { type: ['string', 'null'] },
      },
    },
  };
}

/** The funnel report. */
function funnelSchemas(): Json {
  return {
    FunnelRow: {
      type: 'object',
      properties: {
        key: { type: 'string' },
        leads: { type: 'integer' },
        mqls: { type: 'integer' },
        sqls: { type: 'integer' },
        opportunities: { type: 'integer' },
        customers: { type: 'integer' },
        conversion: {
          type: 'object',
          description:
            'Share (0–1) of the contacts reaching the first stage in the period that reached the second before its end; null when none reached the first',
        },
        medianDays: { type: 'object', description: 'Median days between the stages over the converted contacts' },
        sla: { type: 'object' },
        feedback: { type: 'object' },
        pipelineCents: { type: 'integer' },
        wonCents: { type: 'integer' },
        wonDeals: { type: 'integer' },
      },
    },
    FunnelReport: {
      type: 'object',
      properties: {
        installationId: { type: 'string' },
        period: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string', description: 'exclusive' } } },
        totals: ref('FunnelRow'),
        channels: { type: 'array', items: ref('FunnelRow') },
        campaigns: { type: 'array', items: ref('FunnelRow') },
        feedbackReasons: { type: 'array', items: { type: 'object' } },
        revenueCredit: { type: 'array', items: ref('CreditRow'), description: 'New-business won revenue credited per campaign' },
        channelCredit: {
          type: 'array',
          items: ref('CreditRow'),
          description: 'The same credit per channel of each touch (the key is in `campaign`)',
        },
        currency: {
          type: 'object',
          description:
            "The currency every amount is in: the org's corporate currency (multi-currency amounts converted at its CurrencyType rates)",
          properties: {
            code: { type: ['string', 'null'], description: "ISO 4217; null until the org's currency was read" },
            multiCurrency: { type: 'boolean' },
            rates: {
              type: 'object',
              additionalProperties: { type: 'number' },
              description: 'Units per one unit of the corporate currency',
            },
          },
        },
        wonDate: { enum: ['won_day', 'close_date'], description: 'The day a won deal counts on (revenue policy)' },
        lifetimeValue: {
          type: 'object',
          description: 'Customer Accounts with every won deal up to the period end, by first-touch channel, campaign and size segment',
          properties: {
            channels: { type: 'array', items: ref('LifetimeValueRow') },
            campaigns: { type: 'array', items: ref('LifetimeValueRow') },
            segments: { type: 'array', items: ref('LifetimeValueRow') },
          },
        },
        segments: {
          type: 'object',
          properties: {
            source: { enum: ['salesforce_account', 'hubspot_company'] },
            measure: { enum: ['employees', 'annual_revenue'] },
            rows: { type: 'array', items: ref('SegmentRow') },
          },
        },
        roi: {
          type: 'object',
          properties: { campaigns: { type: 'array', items: ref('RoiRow') }, channels: { type: 'array', items: ref('RoiRow') } },
        },
      },
    },
  };
}

/** The report's credit, lifetime value, segment and ROI rows. */
function reportRowSchemas(): Json {
  return {
    CreditRow: {
      type: 'object',
      properties: {
        campaign: { type: 'string' },
        credit: {
          type: 'object',
          properties: Object.fromEntries(CREDIT_MODELS.map((m) => [m, { type: 'integer', description: 'cents' }])),
        },
      },
    },
    LifetimeValueRow: {
      type: 'object',
      properties: {
        key: { type: 'string' },
        customers: { type: 'integer' },
        newCustomers: { type: 'integer', description: 'First won in the period' },
        lifetimeValueCents: { type: 'integer' },
        averageLifetimeValueCents: { type: ['integer', 'null'] },
      },
    },
    SegmentRow: {
      type: 'object',
      properties: {
        key: { type: 'string', description: 'Size band label' },
        wonCents: { type: 'integer' },
        wonDeals: { type: 'integer' },
        lostDeals: { type: 'integer' },
        winRate: { type: ['number', 'null'], description: 'won ÷ (won + lost) closed in the period' },
        medianSalesCycleDays: { type: ['number', 'null'], description: 'Opportunity created → won' },
        customers: { type: 'integer' },
        averageLifetimeValueCents: { type: ['integer', 'null'] },
      },
    },
    RoiRow: {
      type: 'object',
      properties: {
        key: { type: 'string' },
        costCents: { type: 'integer' },
        costSources: { type: 'array', items: { enum: ['actual', 'budgeted', 'entered'] } },
        leads: { type: 'integer' },
        mqls: { type: 'integer' },
        customers: { type: 'integer' },
        credit: { type: 'object', description: 'Cents credited under each model' },
        costPerLeadCents: { type: ['integer', 'null'] },
        costPerMqlCents: { type: ['integer', 'null'] },
        cacCents: { type: ['integer', 'null'], description: 'Customer acquisition cost' },
        roi: { type: 'object', description: '(credited − cost) ÷ cost under each model; null without a cost' },
        averageLifetimeValueCents: { type: ['integer', 'null'] },
        ltvToCac: { type: ['number', 'null'] },
      },
    },
  };
}

/** Every schema, in the document's order. */
export function componentSchemas(): Json {
  return {
    ...coreSchemas(),
    ...provisioningSchemas(),
    ...settingSchemas(),
    ...agreementSchemas(),
    ...goalSchemas(),
    ...jobSchemas(),
    ...runSchemas(),
    ...funnelSchemas(),
    ...reportRowSchemas(),
  };
}
