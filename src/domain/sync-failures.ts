/**
 * What went wrong, by cause, for the admin: each warning or error of the sync log is put in one
 * group (a Salesforce validation rule, a missing permission, a locked record, a picklist value the
 * org does not have, a rate limit, a write HubSpot did not keep, a stage no rule covers…) with the
 * fix an admin can make. The CRM error codes the groups rest on are named here and nowhere else in
 * the health view; adapters pass them through in `outcome.code`, which the sync writes into the
 * log line's reason (`… refused the Lead: FIELD_CUSTOM_VALIDATION_EXCEPTION …`) or `details.code`.
 */

/** HubSpot answered a write 2xx without keeping the value (e.g. a backward lifecycle stage). */
export const WRITE_IGNORED = 'WRITE_IGNORED';

/** Actions of log lines that are a cause by themselves, whatever their reason says. */
export const SILENT_STOP_ACTIONS = {
  noRuleMatches: 'no_rule_matches',
  campaignNoRespondedStatus: 'campaign_no_responded_status',
  reconcileCaught: 'reconcile_caught',
} as const;

export type FailureCause =
  | 'validation_rule'
  | 'missing_permission'
  | 'locked_record'
  | 'unknown_picklist_value'
  | 'required_field'
  | 'duplicate_value'
  | 'rate_limit'
  | 'write_ignored'
  | 'hubspot_property_rejected'
  | 'no_rule_matches'
  | 'campaign_no_responded_status'
  | 'missed_webhook'
  | 'other';

export interface FailureCauseInfo {
  title: string;
  /** What the admin can do about it. */
  hint: string;
  /** The CRM error codes that mean this cause. */
  codes: readonly string[];
}

/** Every cause with its fix; the one list of error codes the grouping knows. */
export const FAILURE_CAUSES: Readonly<Record<FailureCause, FailureCauseInfo>> = {
  validation_rule: {
    title: 'Salesforce validation rule',
    hint: 'A validation rule in the org refused the write; its message is in the log line. In Setup → Object Manager → the object → Validation Rules, find the rule with that message and either let the integration user through (e.g. add $User.Username <> the integration user to its condition) or map the field the rule asks for in the field rules.',
    codes: ['FIELD_CUSTOM_VALIDATION_EXCEPTION', 'FIELD_INTEGRITY_EXCEPTION'],
  },
  missing_permission: {
    title: 'Missing permission or field-level security',
    hint: 'The integration user may not see or edit a field or an object. Assign the Smarketing Sync integration permission set to it (the installation page lists what is missing); a field nobody was granted answers INVALID_FIELD. In HubSpot, reconnect the app so it gets the scopes it asks for.',
    codes: [
      'INVALID_FIELD',
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      'INSUFFICIENT_ACCESS',
      'INSUFFICIENT_ACCESS_OR_READONLY',
      'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
      'INVALID_TYPE_FOR_OPERATION',
      'MISSING_SCOPES',
    ],
  },
  locked_record: {
    title: 'Locked record',
    hint: 'Another process (a Flow, a trigger, an import) held the record while the app wrote it. The sync retries by itself; when it keeps happening, look for automation that updates the same Leads at the same moment.',
    codes: ['UNABLE_TO_LOCK_ROW'],
  },
  unknown_picklist_value: {
    title: 'Value not in a restricted picklist',
    hint: 'The app wrote a value the picklist does not have. Add the value to the picklist in Setup → Object Manager → the field → Values, or change the stage dictionary or field rule that produces it (Settings).',
    codes: ['INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'INVALID_OPTION'],
  },
  required_field: {
    title: 'Required field missing',
    hint: 'The record lacks a field the org requires (Company and Last Name on a Lead, for example). Map a HubSpot property to it in the field rules, or make sure the contacts that reach handoff have it.',
    codes: ['REQUIRED_FIELD_MISSING'],
  },
  duplicate_value: {
    title: 'Duplicate value',
    hint: 'A unique field or a duplicate rule refused the record: another record already has the value. Merge the duplicates in Salesforce, then sync the record again from its log.',
    codes: ['DUPLICATE_VALUE', 'DUPLICATES_DETECTED'],
  },
  rate_limit: {
    title: 'API limit reached',
    hint: "A CRM refused calls for going over its limit; the sync waits for the time the CRM asks and goes on. When it happens daily, raise the org's API allowance or lower the app's share of it.",
    codes: ['REQUEST_LIMIT_EXCEEDED', 'RATE_LIMIT', 'RATE_LIMITS'],
  },
  write_ignored: {
    title: 'HubSpot kept another value',
    hint: 'HubSpot accepted the write but kept its own value; it ignores a move to an earlier lifecycle stage unless the stage is cleared first. Check the stage dictionary: a backward move needs a rejected or recycled rule.',
    codes: [WRITE_IGNORED],
  },
  hubspot_property_rejected: {
    title: 'HubSpot refused a property value',
    hint: "HubSpot refused a value: the portal's property rules (required properties, allowed options) do not accept it. In HubSpot, Settings → Properties, check the property named in the log line, or change the field rule that writes it.",
    codes: ['VALIDATION_ERROR', 'PROPERTY_DOESNT_EXIST', 'INVALID_EMAIL'],
  },
  no_rule_matches: {
    title: 'No stage rule matches',
    hint: "A record is in a state no row of the stage dictionary covers, so its stage stops syncing. Add a row for that Lead Status or lifecycle stage in Settings → Stage dictionary, or correct a value that is not in the org's picklist.",
    codes: [],
  },
  campaign_no_responded_status: {
    title: 'Campaign without a responded status',
    hint: 'The person was not added to the Campaign: none of its member statuses counts as responded. In Salesforce, open the Campaign and tick Responded on the status that means a response (or add one), then add the people listed here yourself.',
    codes: [],
  },
  missed_webhook: {
    title: 'Change with no webhook',
    hint: 'The reconciler found a change to a watched property that no webhook or Outbound Message announced, and synced it. A few are normal; many mean a delivery path is broken: check the webhook subscriptions (HubSpot) and the Outbound Message Flows (Salesforce) on the installation page.',
    codes: [],
  },
  other: {
    title: 'Other problems',
    hint: 'Open a record to read what happened; a failed job can be replayed from the list above.',
    codes: [],
  },
};

const CAUSE_BY_CODE: ReadonlyMap<string, FailureCause> = new Map(
  (Object.entries(FAILURE_CAUSES) as [FailureCause, FailureCauseInfo][]).flatMap(([cause, info]) =>
    info.codes.map((code) => [code, cause] as const),
  ),
);

const CAUSE_BY_ACTION: ReadonlyMap<string, FailureCause> = new Map([
  [SILENT_STOP_ACTIONS.noRuleMatches, 'no_rule_matches'],
  [SILENT_STOP_ACTIONS.campaignNoRespondedStatus, 'campaign_no_responded_status'],
  [SILENT_STOP_ACTIONS.reconcileCaught, 'missed_webhook'],
]);

/** The part of a sync log line the grouping reads. */
export interface FailureLine {
  recordRef: string | null;
  level: 'info' | 'warn' | 'error';
  action: string;
  reason: string;
  details: Record<string, unknown>;
  at: Date;
}

/** Upper-case error codes as CRMs write them (`UNABLE_TO_LOCK_ROW`, `VALIDATION_ERROR`). */
const CODE_PATTERN = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;

/** The cause of one log line and the error code it was recognised by, if any. */
export function classifyFailure(line: Pick<FailureLine, 'action' | 'reason' | 'details'>): { cause: FailureCause; code: string | null } {
  const byAction = CAUSE_BY_ACTION.get(line.action);
  if (byAction) return { cause: byAction, code: null };
  const detailCode = typeof line.details.code === 'string' ? line.details.code : undefined;
  const candidates = [...(detailCode ? [detailCode] : []), ...(line.reason.match(CODE_PATTERN) ?? [])];
  for (const code of candidates) {
    const cause = CAUSE_BY_CODE.get(code);
    if (cause) return { cause, code };
  }
  return { cause: 'other', code: null };
}

export interface FailureGroup {
  cause: FailureCause;
  title: string;
  hint: string;
  /** Log lines in the group. */
  count: number;
  /** Distinct records behind them, newest first, at most `recordsPerGroup`. */
  records: string[];
  /** Distinct records in all. */
  recordCount: number;
  errors: number;
  warnings: number;
  latestAt: Date;
  /** The newest line's reason, to show what the CRM said. */
  example: string;
}

/**
 * Groups warnings and errors by cause, the biggest group first (ties: the most recent first).
 * Info lines are left out; `lines` may come in any order.
 */
export function groupFailures(lines: readonly FailureLine[], recordsPerGroup = 10): FailureGroup[] {
  const groups = new Map<FailureCause, FailureGroup & { refs: Set<string> }>();
  const newestFirst = [...lines].filter((line) => line.level !== 'info').sort((a, b) => b.at.getTime() - a.at.getTime());
  for (const line of newestFirst) {
    const { cause } = classifyFailure(line);
    let group = groups.get(cause);
    if (!group) {
      const info = FAILURE_CAUSES[cause];
      group = {
        cause,
        title: info.title,
        hint: info.hint,
        count: 0,
        records: [],
        recordCount: 0,
        errors: 0,
        warnings: 0,
        latestAt: line.at,
        example: line.reason,
        refs: new Set(),
      };
      groups.set(cause, group);
    }
    group.count += 1;
    if (line.level === 'error') group.errors += 1;
    else group.warnings += 1;
    if (line.recordRef !== null && !group.refs.has(line.recordRef)) {
      group.refs.add(line.recordRef);
      if (group.records.length < recordsPerGroup) group.records.push(line.recordRef);
    }
  }
  return [...groups.values()]
    .map(({ refs, ...group }) => ({ ...group, recordCount: refs.size }))
    .sort((a, b) => b.count - a.count || b.latestAt.getTime() - a.latestAt.getTime());
}

/**
 * Whether a stage decision stopped because no row of the dictionary covers the record (the reason
 * `decideHubSpotToSalesforce` / `decideSalesforceToHubSpot` give): a silent stop the admin must see.
 */
export function isNoRuleMatch(reason: string): boolean {
  return (
    /^no (hubspot_to_salesforce|salesforce_to_hubspot) rule matches /.test(reason) ||
    /^refused: Lead \S+ has Status ".*", which no stage in the dictionary names$/.test(reason)
  );
}
