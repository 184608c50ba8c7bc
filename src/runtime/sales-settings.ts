/**
 * The per-installation settings of sales feedback and the follow-up SLA (installations.settings):
 * `feedbackTaxonomy`, `slaPolicy` and — saved there by earlier versions, moved into the vault at
 * boot — `alert: { url, secret }`, validated with the domain's schemas. A missing value takes the default; an invalid one is logged (paths and messages only,
 * never values) and the default applies until the admin fixes it.
 */
import { DEFAULT_FEEDBACK_TAXONOMY, validateFeedbackTaxonomy, type FeedbackTaxonomy } from '../domain/feedback.ts';
import { DEFAULT_SLA_POLICY, validateSlaPolicy, type SlaPolicy } from '../domain/sla.ts';
import type { Logger } from '../log.ts';
import { AlertTargetSchema, type AlertTarget } from '../sync/alerts.ts';

/** The feedback and SLA part of an installation's settings. */
export interface SalesSettings {
  feedbackTaxonomy: FeedbackTaxonomy;
  slaPolicy: SlaPolicy;
  /** Where SLA alerts go; null sends none. */
  alert: AlertTarget | null;
  /** Why a stored alert target cannot be used (unreadable), with the fix; null when there is no such problem. */
  alertProblem: string | null;
}

/** Reads the feedback and SLA settings of one installation. */
export function readSalesSettings(
  settings: { feedbackTaxonomy?: unknown; slaPolicy?: unknown; alert?: unknown },
  log: Logger,
  installationId: string,
): SalesSettings {
  const invalid = (setting: string, problems: string[]): void => {
    log.warn({ installationId, setting, problems }, `installation setting ${setting} is invalid: the default applies`);
  };
  let feedbackTaxonomy = DEFAULT_FEEDBACK_TAXONOMY;
  if (settings.feedbackTaxonomy !== undefined) {
    const result = validateFeedbackTaxonomy(settings.feedbackTaxonomy);
    if (result.ok) feedbackTaxonomy = result.value;
    else invalid('feedbackTaxonomy', result.error);
  }
  let slaPolicy = DEFAULT_SLA_POLICY;
  if (settings.slaPolicy !== undefined) {
    const result = validateSlaPolicy(settings.slaPolicy);
    if (result.ok) slaPolicy = result.value;
    else invalid('slaPolicy', result.error);
  }
  let alert: AlertTarget | null = null;
  if (settings.alert !== undefined && settings.alert !== null) {
    const parsed = AlertTargetSchema.safeParse(settings.alert);
    // Messages name the field and the rule only: zod does not echo the (secret) value.
    if (parsed.success) alert = parsed.data;
    else
      invalid(
        'alert',
        parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
      );
  }
  return { feedbackTaxonomy, slaPolicy, alert, alertProblem: null };
}
