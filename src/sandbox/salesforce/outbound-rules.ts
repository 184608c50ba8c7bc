/**
 * Outbound Message definitions (what Setup → Workflow/Flow → Outbound Message holds) and the
 * shapes of the delivery queue and log that the sandbox keeps for them.
 */
import { z } from 'zod';

/** A rule as `/__sandbox/outbound-messages` accepts it. */
export const outboundRuleInputSchema = z.strictObject({
  name: z.string().min(1).max(80).default('Sandbox Outbound Message'),
  object: z.string().min(1),
  /** Fire when a record is created, updated, or both. */
  triggerOn: z
    .array(z.enum(['create', 'update']))
    .min(1)
    .default(['create', 'update']),
  /** For updates: fire only when at least one of these fields changed (empty = any change). */
  whenFieldsChange: z.array(z.string().min(1)).default([]),
  /** Fields sent in each notification (Id is always sent). */
  fields: z.array(z.string().min(1)).min(1),
  endpointUrl: z.url({ protocol: /^https?$/ }),
  /** The user the message is sent as (its session id is sent when includeSessionId is on). */
  integrationUserId: z.string().optional(),
  includeSessionId: z.boolean().default(false),
  /** Whether changes made by the integration user fire the rule (Salesforce fires regardless). */
  fireOnIntegrationUserChanges: z.boolean().default(true),
  /** Null fields: `omit` them (what Salesforce does) or send them as `xsi:nil="true"`. */
  nullFields: z.enum(['omit', 'nil']).default('omit'),
  /** API version of the EnterpriseUrl/PartnerUrl in the message. */
  apiVersion: z
    .string()
    .regex(/^\d{2}\.0$/)
    .default('60.0'),
  active: z.boolean().default(true),
});

export type OutboundRuleInput = z.input<typeof outboundRuleInputSchema>;

export const outboundRuleSchema = outboundRuleInputSchema.extend({
  id: z.string(),
  integrationUserId: z.string(),
  createdDate: z.string(),
});

export type OutboundRule = z.infer<typeof outboundRuleSchema>;

export const pendingNotificationSchema = z.object({
  id: z.string(),
  ruleId: z.string(),
  type: z.string(),
  recordId: z.string(),
  /** Wall-clock ms when Salesforce queued it; the 24 h drop window counts from here. */
  queuedAt: z.number(),
  attempts: z.number().int(),
  dueAt: z.number(),
});

export type PendingNotification = z.infer<typeof pendingNotificationSchema>;

export const deliveryLogEntrySchema = z.object({
  id: z.string(),
  ruleId: z.string(),
  endpointUrl: z.string(),
  notificationIds: z.array(z.string()),
  recordIds: z.array(z.string()),
  attempt: z.number().int(),
  at: z.string(),
  outcome: z.enum(['acked', 'failed', 'expired', 'dropped-by-fault']),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  /** Fault knobs applied to this delivery (duplicate, reorder, delay). */
  faults: z.array(z.string()),
});

export type DeliveryLogEntry = z.infer<typeof deliveryLogEntrySchema>;
