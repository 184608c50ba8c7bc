/**
 * Fault knobs: error injection on chosen endpoints (method + path pattern, a count or a
 * probability), record-level refusals of writes to an object (a validation rule, a locked row, a
 * restricted picklist), and Outbound Message delivery faults (duplicate, reorder, delay, drop). Probabilities
 * draw from a seeded PRNG so a failing run can be replayed.
 */
import { z } from 'zod';
import type { SfError } from './types.ts';

const knobSchema = z
  .strictObject({ next: z.number().int().min(0).optional(), probability: z.number().min(0).max(1).optional() })
  .refine((k) => k.next !== undefined || k.probability !== undefined, 'set `next` (count) or `probability`');

export const INJECTABLE_ERRORS = [
  'UNKNOWN_EXCEPTION',
  'SERVER_UNAVAILABLE',
  'REQUEST_LIMIT_EXCEEDED',
  'UNABLE_TO_LOCK_ROW',
  'INVALID_SESSION_ID',
] as const;
export type InjectableError = (typeof INJECTABLE_ERRORS)[number];

/**
 * Errors Salesforce answers for one record of a write (inside a Collections result or a single
 * record's 400) while the request itself succeeds: a validation rule, a lock held by another
 * process, a restricted picklist.
 */
export const RECORD_ERRORS = [
  'FIELD_CUSTOM_VALIDATION_EXCEPTION',
  'UNABLE_TO_LOCK_ROW',
  'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
] as const;
export type RecordError = (typeof RECORD_ERRORS)[number];

const RECORD_ERROR_MESSAGES: Record<RecordError, string> = {
  FIELD_CUSTOM_VALIDATION_EXCEPTION: 'This record does not meet a validation rule of the org',
  UNABLE_TO_LOCK_ROW: 'unable to obtain exclusive access to this record or 1 records',
  INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: 'bad value for restricted picklist field',
};

export const faultConfigSchema = z.strictObject({
  seed: z.number().int().default(1),
  endpoints: z
    .array(
      z
        .strictObject({
          method: z.string().default('*'),
          /** Matched against the request path; `*` matches any run of characters, e.g. `/services/data/*\/composite/sobjects*`. */
          path: z.string().min(1),
          error: z.enum(INJECTABLE_ERRORS),
          count: z.number().int().min(1).optional(),
          probability: z.number().min(0).max(1).optional(),
        })
        .refine((e) => e.count !== undefined || e.probability !== undefined, 'set `count` or `probability`'),
    )
    .default([]),
  /** Record-level refusals of creates and updates of an object, as an org's validation rules give them. */
  records: z
    .array(
      z
        .strictObject({
          object: z.string().min(1),
          error: z.enum(RECORD_ERRORS),
          /** The rule's error message (a validation rule's own text); a default per error otherwise. */
          message: z.string().min(1).optional(),
          fields: z.array(z.string().min(1)).default([]),
          count: z.number().int().min(1).optional(),
          probability: z.number().min(0).max(1).optional(),
        })
        .refine((e) => e.count !== undefined || e.probability !== undefined, 'set `count` or `probability`'),
    )
    .default([]),
  outbound: z
    .strictObject({
      duplicate: knobSchema.optional(),
      reorder: knobSchema.optional(),
      drop: knobSchema.optional(),
      delayMs: z.number().int().min(0).max(600_000).optional(),
    })
    .default({}),
});

export type FaultConfig = z.infer<typeof faultConfigSchema>;
export type FaultConfigInput = z.input<typeof faultConfigSchema>;

/** What an injected error answers, per protocol. */
export const INJECTED_RESPONSES: Record<InjectableError, { status: number; error: SfError }> = {
  UNKNOWN_EXCEPTION: {
    status: 500,
    error: {
      errorCode: 'UNKNOWN_EXCEPTION',
      message: 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)',
    },
  },
  SERVER_UNAVAILABLE: {
    status: 503,
    error: { errorCode: 'SERVER_UNAVAILABLE', message: 'Server temporarily unavailable. Please retry your request.' },
  },
  REQUEST_LIMIT_EXCEEDED: { status: 403, error: { errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' } },
  UNABLE_TO_LOCK_ROW: {
    status: 400,
    error: { errorCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record or 1 records', fields: [] },
  },
  INVALID_SESSION_ID: { status: 401, error: { errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' } },
};

/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

type OutboundKnob = 'duplicate' | 'reorder' | 'drop';

export class FaultInjector {
  private config: FaultConfig = faultConfigSchema.parse({});
  private random = prng(1);
  private endpointCounts: Array<number | undefined> = [];
  private knobCounts: Partial<Record<OutboundKnob, number | undefined>> = {};
  private matchers: RegExp[] = [];
  private recordCounts: Array<number | undefined> = [];

  /** Replaces the whole configuration (counts start over, the PRNG is reseeded). */
  configure(input: FaultConfigInput): FaultConfig {
    this.config = faultConfigSchema.parse(input);
    this.random = prng(this.config.seed);
    this.endpointCounts = this.config.endpoints.map((e) => e.count);
    this.matchers = this.config.endpoints.map((e) => globToRegExp(e.path));
    this.recordCounts = this.config.records.map((r) => r.count);
    this.knobCounts = {
      duplicate: this.config.outbound.duplicate?.next,
      reorder: this.config.outbound.reorder?.next,
      drop: this.config.outbound.drop?.next,
    };
    return this.current();
  }

  clear(): void {
    this.configure({});
  }

  /** The configuration with the counts still left. */
  current(): FaultConfig {
    return {
      ...this.config,
      endpoints: this.config.endpoints.map((e, i) => {
        const remaining = this.endpointCounts[i];
        return remaining === undefined ? e : { ...e, count: remaining };
      }),
      records: this.config.records.map((r, i) => {
        const remaining = this.recordCounts[i];
        return remaining === undefined ? r : { ...r, count: remaining };
      }),
    };
  }

  /** The error to inject for this request, if a rule fires. */
  forRequest(method: string, path: string): InjectableError | undefined {
    for (const [i, rule] of this.config.endpoints.entries()) {
      if (rule.method !== '*' && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!this.matchers[i]?.test(path)) continue;
      const remaining = this.endpointCounts[i];
      if (remaining !== undefined && remaining > 0) {
        this.endpointCounts[i] = remaining - 1;
        return rule.error;
      }
      if (remaining === undefined && rule.probability !== undefined && this.random() < rule.probability) return rule.error;
    }
    return undefined;
  }

  /** The record-level error to answer for a create or update of `object`, if a rule fires. */
  forRecord(object: string): SfError | undefined {
    for (const [i, rule] of this.config.records.entries()) {
      if (rule.object !== object) continue;
      const remaining = this.recordCounts[i];
      const fires = remaining !== undefined ? remaining > 0 : rule.probability !== undefined && this.random() < rule.probability;
      if (!fires) continue;
      if (remaining !== undefined) this.recordCounts[i] = remaining - 1;
      return { errorCode: rule.error, message: rule.message ?? RECORD_ERROR_MESSAGES[rule.error], fields: rule.fields };
    }
    return undefined;
  }

  /** Whether an outbound knob fires for the next delivery (consumes a count when one is left). */
  outbound(knob: OutboundKnob): boolean {
    const remaining = this.knobCounts[knob];
    if (remaining !== undefined && remaining > 0) {
      this.knobCounts[knob] = remaining - 1;
      return true;
    }
    const probability = this.config.outbound[knob]?.probability;
    return probability !== undefined && this.random() < probability;
  }

  outboundDelayMs(): number {
    return this.config.outbound.delayMs ?? 0;
  }

  /** A seeded shuffle (for reordering notifications). */
  shuffle<T>(items: T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}
