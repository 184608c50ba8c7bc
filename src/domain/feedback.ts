/**
 * Sales feedback (docs/architecture.md §4): Salesforce is where sales decides, HubSpot is where marketing
 * learns. A fixed reason taxonomy (data), the outcome derived from a Salesforce Lead/Opportunity,
 * the HubSpot properties and lifecycle intent it implies, and the timeline note a marketer reads.
 */
import { z } from 'zod';
import { formatCents, toCents } from './money.ts';
import { assertNever, err, ok, type Result } from './result.ts';
import type { HubSpotPropertyMap, SharedStage, StageDictionary } from './stages.ts';
import { normalizeValue, parseTimestamp, presentOrNull, sameValue, zodIssueMessages } from './validation.ts';

/** Feedback outcomes (the `sales_feedback_status` values). */
export const FEEDBACK_OUTCOMES = ['accepted', 'rejected', 'recycled', 'opportunity', 'won', 'lost'] as const;
/** A feedback outcome. */
export type FeedbackOutcome = (typeof FEEDBACK_OUTCOMES)[number];

/** The shared stage each outcome stands for. */
export const OUTCOME_STAGES: Readonly<Record<FeedbackOutcome, SharedStage>> = {
  accepted: 'sql',
  rejected: 'rejected',
  recycled: 'recycled',
  opportunity: 'opportunity',
  won: 'customer',
  lost: 'lost',
};

/** How an outcome reads in a timeline note. */
export const OUTCOME_LABELS: Readonly<Record<FeedbackOutcome, string>> = {
  accepted: 'Accepted by sales',
  rejected: 'Rejected',
  recycled: 'Recycled to nurture',
  opportunity: 'Opportunity created',
  won: 'Won',
  lost: 'Lost',
};

const nonBlankText = z.string().trim().min(1, 'must not be blank');
const reasonCode = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case (a-z, 0-9, _)');

/** One reason: the Salesforce `Feedback_Reason__c` / `Loss_Reason__c` label and its stable code. */
export const FeedbackReasonSchema = z.object({ label: nonBlankText, code: reasonCode }).strict();
/** A feedback reason. */
export type FeedbackReason = z.output<typeof FeedbackReasonSchema>;

/** The default reasons (docs/architecture.md §10). */
export const DEFAULT_FEEDBACK_REASONS: readonly FeedbackReason[] = [
  { label: 'No budget', code: 'no_budget' },
  { label: 'No authority', code: 'no_authority' },
  { label: 'No need', code: 'no_need' },
  { label: 'Bad timing', code: 'bad_timing' },
  { label: 'Wrong contact data', code: 'wrong_contact_data' },
  { label: 'Competitor', code: 'competitor' },
  { label: 'Duplicate', code: 'duplicate' },
  { label: 'Other', code: 'other' },
];

/** The admin-editable feedback taxonomy. */
export const FeedbackTaxonomySchema = z
  .object({
    reasons: z
      .array(FeedbackReasonSchema)
      .min(1)
      .default(() => DEFAULT_FEEDBACK_REASONS.map((reason) => ({ ...reason }))),
    /** The code for a reason label the taxonomy does not know. */
    fallbackCode: reasonCode.default('other'),
  })
  .strict()
  .superRefine((taxonomy, context) => {
    const codes = taxonomy.reasons.map((reason) => reason.code);
    taxonomy.reasons.forEach((reason, index) => {
      const earlier = taxonomy.reasons.slice(0, index);
      if (earlier.some((other) => sameValue(other.label, reason.label))) {
        context.addIssue({ code: 'custom', path: ['reasons', index, 'label'], message: `label "${reason.label}" is listed twice` });
      }
      if (earlier.some((other) => other.code === reason.code)) {
        context.addIssue({ code: 'custom', path: ['reasons', index, 'code'], message: `code "${reason.code}" is listed twice` });
      }
    });
    if (!codes.includes(taxonomy.fallbackCode)) {
      context.addIssue({ code: 'custom', path: ['fallbackCode'], message: `"${taxonomy.fallbackCode}" is not a reason code` });
    }
  });
/** A validated feedback taxonomy. */
export type FeedbackTaxonomy = z.output<typeof FeedbackTaxonomySchema>;

/** The default taxonomy: the reasons of docs/architecture.md §10. */
export const DEFAULT_FEEDBACK_TAXONOMY: FeedbackTaxonomy = FeedbackTaxonomySchema.parse({});

/** Validates an admin-supplied taxonomy, listing every problem. */
export function validateFeedbackTaxonomy(input: unknown): Result<FeedbackTaxonomy, string[]> {
  const parsed = FeedbackTaxonomySchema.safeParse(input);
  return parsed.success ? ok(parsed.data) : err(zodIssueMessages(parsed.error));
}

/** The taxonomy's reason a Salesforce label (or code) names, if any. */
function knownReason(taxonomy: FeedbackTaxonomy, labelOrCode: string): FeedbackReason | undefined {
  return taxonomy.reasons.find((reason) => sameValue(reason.label, labelOrCode) || reason.code === normalizeValue(labelOrCode));
}

/** The code for a Salesforce reason label (or code); unknown labels get the fallback, blank gets null. */
export function reasonCodeFor(taxonomy: FeedbackTaxonomy, label: string | null | undefined): string | null {
  const present = presentOrNull(label);
  if (present === null) return null;
  return knownReason(taxonomy, present)?.code ?? taxonomy.fallbackCode;
}

// ---------------------------------------------------------------------------------------------
// What the stage dictionary says feedback means (one rulebook: nothing here restates it)

/** The dictionary stages each outcome of a Lead Status stands for (untouched: the handoff itself). */
const leadStatusStages = (handoffStage: SharedStage) => ({
  untouched: [handoffStage],
  accepted: [OUTCOME_STAGES.accepted],
  closed: [OUTCOME_STAGES.rejected, OUTCOME_STAGES.recycled],
});

/** Lead Status values by what they mean for feedback, read off the dictionary's unconverted Lead rows. */
export interface LeadStatusMeanings {
  /** Sales has not touched the Lead yet (the handoff stage's statuses). */
  readonly untouched: readonly string[];
  /** Sales accepted the Lead. */
  readonly accepted: readonly string[];
  /** Sales closed the Lead: rejected, or recycled when its reason recycles. */
  readonly closed: readonly string[];
}

type FeedbackDictionary = Pick<StageDictionary, 'handoffStage' | 'rows'>;

/** What each Lead Status means for feedback, from the dictionary rows that name it. */
export function leadStatusMeanings(dictionary: FeedbackDictionary): LeadStatusMeanings {
  const stagesByMeaning = leadStatusStages(dictionary.handoffStage);
  const statusesAt = (stages: readonly SharedStage[]): string[] => [
    ...new Set(
      dictionary.rows.flatMap((row) =>
        row.salesforce?.object === 'Lead' &&
        row.salesforce.status !== undefined &&
        row.salesforce.isConverted !== true &&
        stages.includes(row.stage)
          ? [row.salesforce.status]
          : [],
      ),
    ),
  ];
  return {
    untouched: statusesAt(stagesByMeaning.untouched),
    accepted: statusesAt(stagesByMeaning.accepted),
    closed: statusesAt(stagesByMeaning.closed),
  };
}

/** The reasons (labels or codes) that send a closed Lead, or a lost Opportunity, back to nurture: the recycled rows' reasons. */
export function recycleReasonsOf(dictionary: FeedbackDictionary, object: 'Lead' | 'Opportunity'): string[] {
  return dictionary.rows.flatMap((row) =>
    row.stage === OUTCOME_STAGES.recycled && row.salesforce?.object === object ? [...(row.salesforce.reasons ?? [])] : [],
  );
}

// ---------------------------------------------------------------------------------------------
// Deriving feedback

/** The Salesforce Lead fields feedback reads. */
export interface FeedbackLeadSnapshot {
  readonly object: 'Lead';
  readonly Id: string;
  readonly Status: string;
  readonly IsConverted: boolean;
  readonly ConvertedOpportunityId?: string | null | undefined;
  readonly Feedback_Reason__c?: string | null | undefined;
  readonly Feedback_Notes__c?: string | null | undefined;
  /** The owner's (rep's) display name. */
  readonly OwnerName?: string | null | undefined;
  readonly LastModifiedDate: string | number;
}

/** The Salesforce Opportunity fields feedback reads. */
export interface FeedbackOpportunitySnapshot {
  readonly object: 'Opportunity';
  readonly Id: string;
  readonly StageName: string;
  readonly IsClosed: boolean;
  readonly IsWon: boolean;
  readonly Amount?: number | string | null | undefined;
  readonly CloseDate?: string | null | undefined;
  readonly Loss_Reason__c?: string | null | undefined;
  readonly Win_Reason__c?: string | null | undefined;
  readonly Feedback_Notes__c?: string | null | undefined;
  readonly OwnerName?: string | null | undefined;
  readonly LastModifiedDate: string | number;
}

/** A Salesforce record as feedback sees it. */
export type FeedbackSnapshot = FeedbackLeadSnapshot | FeedbackOpportunitySnapshot;

/** Standardized feedback, as stored and shown to marketing. */
export interface Feedback {
  readonly outcome: FeedbackOutcome;
  readonly object: 'Lead' | 'Opportunity';
  readonly recordId: string;
  readonly reasonCode: string | null;
  /** The reason as sales wrote it (loss/feedback reason, or the win reason). */
  readonly reasonLabel: string | null;
  readonly notes: string | null;
  readonly by: string | null;
  /** Epoch ms of the Salesforce change. */
  readonly at: number;
  readonly amountCents: number | null;
  readonly closeDate: string | null;
}

/** The last recorded feedback for the same lead, if any. */
export interface PreviousFeedback {
  readonly outcome: FeedbackOutcome;
  readonly reasonCode: string | null;
  readonly notes?: string | null | undefined;
  readonly amountCents?: number | null | undefined;
  readonly at: number;
}

/**
 * What the feedback implies for HubSpot lifecycle. `clear_then_set` is the recycle move (clear
 * `lifecyclestage`, then set). The lifecycle worker applies intents through the forward-only
 * rules of stages.ts; an intent never bypasses them.
 */
export type LifecycleIntent =
  | { readonly kind: 'none' }
  | { readonly kind: 'set'; readonly properties: HubSpotPropertyMap }
  | { readonly kind: 'clear_then_set'; readonly properties: HubSpotPropertyMap };

/** The outcome of deriving feedback: nothing new, or feedback with its HubSpot writes. */
export type FeedbackDecision =
  | { readonly kind: 'none'; readonly reason: string }
  | {
      readonly kind: 'feedback';
      readonly feedback: Feedback;
      readonly stage: SharedStage;
      readonly hubspotProperties: HubSpotPropertyMap;
      readonly lifecycleIntent: LifecycleIntent;
      readonly reason: string;
    };

/** Derives standardized feedback from a Salesforce Lead/Opportunity; unchanged or stale input yields none. */
export function deriveFeedback(
  previous: PreviousFeedback | null,
  snapshot: FeedbackSnapshot,
  taxonomy: FeedbackTaxonomy,
  dictionary: FeedbackDictionary,
): FeedbackDecision {
  const at = parseTimestamp(snapshot.LastModifiedDate);
  if (at === null) return { kind: 'none', reason: `${snapshot.object} ${snapshot.Id} has no valid LastModifiedDate` };
  if (previous !== null && at < previous.at) {
    return { kind: 'none', reason: `stale: ${snapshot.object} ${snapshot.Id} changed before the recorded feedback` };
  }
  const judged = judge(snapshot, taxonomy, dictionary);
  if (judged.outcome === null) return { kind: 'none', reason: judged.why };

  const amountCents = snapshot.object === 'Opportunity' ? amountToCents(snapshot.Amount) : null;
  const feedback: Feedback = {
    outcome: judged.outcome,
    object: snapshot.object,
    recordId: snapshot.Id,
    reasonCode: judged.reasonCode,
    reasonLabel: judged.reasonLabel,
    notes: presentOrNull(snapshot.Feedback_Notes__c),
    by: presentOrNull(snapshot.OwnerName),
    at,
    amountCents,
    closeDate: snapshot.object === 'Opportunity' ? presentOrNull(snapshot.CloseDate) : null,
  };
  if (
    previous !== null &&
    previous.outcome === feedback.outcome &&
    previous.reasonCode === feedback.reasonCode &&
    (previous.notes ?? null) === feedback.notes &&
    (previous.amountCents ?? null) === feedback.amountCents
  ) {
    return { kind: 'none', reason: `unchanged: feedback is already ${feedback.outcome}` };
  }
  return {
    kind: 'feedback',
    feedback,
    stage: OUTCOME_STAGES[feedback.outcome],
    hubspotProperties: feedbackProperties(feedback),
    lifecycleIntent: lifecycleIntentFor(feedback.outcome, dictionary),
    reason: judged.why,
  };
}

interface Judgement {
  readonly outcome: FeedbackOutcome | null;
  readonly reasonCode: string | null;
  readonly reasonLabel: string | null;
  readonly why: string;
}

function judge(snapshot: FeedbackSnapshot, taxonomy: FeedbackTaxonomy, dictionary: FeedbackDictionary): Judgement {
  const listed = (statuses: readonly string[], status: string): boolean => statuses.some((value) => sameValue(value, status));
  // A reason recycles when a recycled row names it, by its label or by its code.
  const recycles = (object: 'Lead' | 'Opportunity', label: string | null, code: string | null): boolean =>
    recycleReasonsOf(dictionary, object).some(
      (reason) => (label !== null && sameValue(reason, label)) || (code !== null && knownReason(taxonomy, reason)?.code === code),
    );
  switch (snapshot.object) {
    case 'Lead': {
      const label = presentOrNull(snapshot.Feedback_Reason__c);
      const code = reasonCodeFor(taxonomy, label);
      const base = { reasonCode: code, reasonLabel: label };
      if (snapshot.IsConverted) {
        return presentOrNull(snapshot.ConvertedOpportunityId) === null
          ? { ...base, outcome: 'accepted', why: 'Lead converted without an Opportunity' }
          : { ...base, outcome: 'opportunity', why: 'Lead converted with an Opportunity' };
      }
      const { untouched, accepted, closed } = leadStatusMeanings(dictionary);
      if (listed(untouched, snapshot.Status)) {
        return { ...base, outcome: null, why: `no feedback yet: Lead Status "${snapshot.Status}"` };
      }
      if (listed(accepted, snapshot.Status)) return { ...base, outcome: 'accepted', why: `Lead Status "${snapshot.Status}"` };
      if (listed(closed, snapshot.Status)) {
        const recycle = recycles('Lead', label, code);
        return {
          ...base,
          outcome: recycle ? 'recycled' : 'rejected',
          why: recycle
            ? `Lead closed with reason "${label ?? ''}", which recycles to nurture`
            : `Lead closed${label === null ? ' without a reason' : ` with reason "${label}"`}`,
        };
      }
      return { ...base, outcome: null, why: `Lead Status "${snapshot.Status}" carries no feedback` };
    }
    case 'Opportunity': {
      if (snapshot.IsWon) {
        return {
          outcome: 'won',
          reasonCode: null,
          reasonLabel: presentOrNull(snapshot.Win_Reason__c),
          why: `Opportunity won ("${snapshot.StageName}")`,
        };
      }
      if (snapshot.IsClosed) {
        const label = presentOrNull(snapshot.Loss_Reason__c);
        const code = reasonCodeFor(taxonomy, label);
        const recycle = recycles('Opportunity', label, code);
        return {
          outcome: recycle ? 'recycled' : 'lost',
          reasonCode: code,
          reasonLabel: label,
          why: recycle
            ? `Opportunity lost with reason "${label ?? ''}", which recycles to nurture`
            : `Opportunity lost ("${snapshot.StageName}")`,
        };
      }
      return { outcome: 'opportunity', reasonCode: null, reasonLabel: null, why: `Opportunity open ("${snapshot.StageName}")` };
    }
    default:
      return assertNever(snapshot);
  }
}

function amountToCents(amount: number | string | null | undefined): number | null {
  if (amount === null || amount === undefined || (typeof amount === 'string' && amount.trim() === '')) return null;
  try {
    return toCents(amount);
  } catch {
    return null;
  }
}

/** The HubSpot contact properties for one piece of feedback (blank values clear old ones). */
export function feedbackProperties(feedback: Feedback): HubSpotPropertyMap {
  const properties: Record<string, string> = {
    sales_feedback_status: feedback.outcome,
    sales_feedback_reason: feedback.reasonCode ?? '',
    sales_feedback_notes: feedback.notes ?? '',
    sales_feedback_by: feedback.by ?? '',
    sales_feedback_at: new Date(feedback.at).toISOString(),
  };
  if (feedback.object === 'Opportunity' && feedback.amountCents !== null) {
    properties['sales_opportunity_amount'] = formatCents(feedback.amountCents);
    if (feedback.outcome === 'won') properties['sales_won_amount'] = formatCents(feedback.amountCents);
  }
  return properties;
}

/**
 * The lifecycle intent of an outcome: the HubSpot lifecyclestage and hs_lead_status of the outcome's
 * stage, as its dictionary row states them (`sales_feedback_status` is the feedback's own). A
 * recycled lead's lifecycle stage goes back, which HubSpot only allows after clearing it.
 */
export function lifecycleIntentFor(outcome: FeedbackOutcome, dictionary: FeedbackDictionary): LifecycleIntent {
  const row = dictionary.rows.find((candidate) => candidate.stage === OUTCOME_STAGES[outcome] && candidate.hubspot);
  const properties = Object.fromEntries(
    (['lifecyclestage', 'hs_lead_status'] as const).flatMap((name) => {
      const value = row?.hubspot?.[name];
      return value === undefined ? [] : [[name, value]];
    }),
  );
  if (Object.keys(properties).length === 0) return { kind: 'none' };
  return { kind: outcome === 'recycled' ? 'clear_then_set' : 'set', properties };
}

// ---------------------------------------------------------------------------------------------
// Timeline note

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const AMOUNT_FORMAT = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * The HubSpot timeline note body for a piece of feedback: outcome and reason first, then notes,
 * amount, rep, time and a link to the Salesforce record. Every interpolated value is escaped,
 * and the link is dropped unless it is http(s).
 */
export function renderTimelineNote(feedback: Feedback, links: { readonly salesforceUrl?: string | null | undefined }): string {
  const lines: string[] = [];
  const reason = feedback.reasonLabel ?? feedback.reasonCode;
  const reasonLabel = feedback.outcome === 'won' ? 'Win reason' : 'Reason';
  lines.push(
    `<p><strong>Sales feedback: ${escapeHtml(OUTCOME_LABELS[feedback.outcome])}</strong>${
      reason === null ? '' : ` — ${reasonLabel}: ${escapeHtml(reason)}`
    }</p>`,
  );
  if (feedback.notes !== null) {
    lines.push(`<p>Notes: ${escapeHtml(feedback.notes).replace(/\r?\n/g, '<br>')}</p>`);
  }
  if (feedback.amountCents !== null) {
    const closed = feedback.closeDate === null ? '' : ` (close date ${escapeHtml(feedback.closeDate)})`;
    lines.push(`<p>Amount: ${AMOUNT_FORMAT.format(feedback.amountCents / 100)}${closed}</p>`);
  }
  const when = new Date(feedback.at).toISOString().replace('T', ' ').slice(0, 16);
  const by = feedback.by === null ? '' : `By ${escapeHtml(feedback.by)}, `;
  const url = presentOrNull(links.salesforceUrl);
  const link = url !== null && /^https?:\/\//i.test(url) ? ` · <a href="${escapeHtml(url)}">Open in Salesforce</a>` : '';
  lines.push(`<p>${by}${when} UTC${link}</p>`);
  return lines.join('');
}
