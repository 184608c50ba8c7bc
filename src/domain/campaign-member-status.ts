/**
 * Which member status a person gets when attribution adds them to a campaign. Member statuses
 * belong to each campaign (docs/architecture.md §11): an admin may have renamed or replaced the two a new
 * campaign starts with ("Sent", "Responded"), so the choice reads the campaign's own statuses and
 * never writes one it lacks, except on a campaign the app itself just created.
 */

/** One of a campaign's member statuses. */
export interface MemberStatusOption {
  readonly label: string;
  /** Counted as a response on the campaign (Salesforce `HasResponded`). */
  readonly responded: boolean;
  readonly sortOrder: number | null;
}

/**
 * `use`: write this label (one of the campaign's statuses). `add`: the campaign is the app's own
 * and lacks the configured status; create it (counted as responded) with this sort order first.
 * `none`: the campaign counts no status as a response; adding the person would misreport them.
 */
export type MemberStatusChoice =
  | { readonly kind: 'use'; readonly label: string }
  | { readonly kind: 'add'; readonly label: string; readonly sortOrder: number }
  | { readonly kind: 'none' };

function bySortOrder(a: MemberStatusOption, b: MemberStatusOption): number {
  if (a.sortOrder === b.sortOrder) return a.label.localeCompare(b.label);
  if (a.sortOrder === null) return 1;
  if (b.sortOrder === null) return -1;
  return a.sortOrder - b.sortOrder;
}

/**
 * The status for a new member: the configured one when the campaign has it as a responded status,
 * else (on a campaign the app created in this batch) the configured one added, else the campaign's
 * first responded status by sort order, else none.
 */
export function chooseMemberStatus(statuses: readonly MemberStatusOption[], configured: string, createdByApp: boolean): MemberStatusChoice {
  const wanted = configured.trim().toLowerCase();
  const named = statuses.find((s) => s.label.trim().toLowerCase() === wanted);
  if (named?.responded) return { kind: 'use', label: named.label };
  if (createdByApp && named === undefined) {
    const highest = Math.max(0, ...statuses.map((s) => s.sortOrder ?? 0));
    return { kind: 'add', label: configured.trim(), sortOrder: highest + 1 };
  }
  const firstResponded = [...statuses].sort(bySortOrder).find((s) => s.responded);
  return firstResponded ? { kind: 'use', label: firstResponded.label } : { kind: 'none' };
}
