/**
 * The digest's messages, rendered from a `PipelineReview` only: the email (subject, plain text and
 * simple HTML, every block of the review with its numbers) and the short chat text (Slack-style
 * mrkdwn) for the alert target. Amounts are integer cents, formatted in the review's currency.
 */
import type { GoalRow } from './goals.ts';
import type { PipelineReview, SalesRuleFigures, SourceRow } from './review.ts';

/** The rendered digest. */
export interface DigestMessage {
  subject: string;
  text: string;
  html: string;
  chat: string;
}

/** What the messages need besides the review. */
export interface DigestContext {
  installationName: string;
  /** The review page of this installation and period on the app's public URL. */
  reviewUrl: string;
  /** A test digest sent from the settings page says so in its subject and first line. */
  test?: boolean;
}

/** Formats integer cents in a currency (ISO 4217), or as a plain amount when it is unknown. */
export function formatMoney(cents: number, currency: string | null): string {
  const amount = cents / 100;
  if (currency !== null && /^[A-Z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(amount);
    } catch {
      // An unknown code falls through to the plain amount.
    }
  }
  return amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

const count = (value: number): string => value.toLocaleString('en-US');
const percent = (ratio: number | null): string =>
  ratio === null ? '—' : `${(ratio * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })} %`;
const words = (code: string): string => code.replaceAll('_', ' ');

function goalValue(row: GoalRow, value: number | null, currency: string | null): string {
  if (value === null) return '—';
  switch (row.unit) {
    case 'amount':
      return formatMoney(Math.round(value * 100), currency);
    case 'multiple':
      return `${value.toLocaleString('en-US', { maximumFractionDigits: 2 })}×`;
    case 'percent':
      return `${value.toLocaleString('en-US', { maximumFractionDigits: 2 })} %`;
    case 'hours':
      return `${value.toLocaleString('en-US', { maximumFractionDigits: 1 })} h`;
    default: {
      const unreachable: never = row.unit;
      return String(unreachable);
    }
  }
}

/** One block of the review: a title and its lines (each line plain text). */
interface Block {
  title: string;
  lines: string[];
}

function sourceLine(row: SourceRow, currency: string | null): string {
  return `${row.key}: won ${count(row.wonDeals)} (${formatMoney(row.wonCents, currency)}), open ${count(row.openDeals)} (${formatMoney(row.openCents, currency)})`;
}

function ruleLine(rule: SalesRuleFigures): string {
  if (!rule.enabled) return `${words(rule.rule)}: off`;
  return `${words(rule.rule)}: ${percent(rule.rate)} kept (${count(rule.kept)} of ${count(rule.judged)}), ${count(rule.broken)} broken, ${count(rule.pending)} pending`;
}

const none = (lines: string[], empty: string) => (lines.length === 0 ? [empty] : lines);

function blocksOf(review: PipelineReview): Block[] {
  return [...revenueBlocks(review), ...agreementBlocks(review)];
}

/** Goal, pipeline, sources, new customers and losses. */
function revenueBlocks(review: PipelineReview): Block[] {
  const money = (cents: number) => formatMoney(cents, review.currency);
  const { goal, pipeline, sources, losses } = review;
  return [
    {
      title: `Goal vs closed (${goal.quarter})`,
      lines: [
        `Closed ${money(goal.closedCents)} of ${goal.targetCents === null ? 'no goal set' : `${money(goal.targetCents)} goal`} (${percent(goal.share)})${goal.owner === null ? '' : `, owner ${goal.owner}`}`,
      ],
    },
    {
      title: 'Open pipeline by stage',
      lines: [
        `${count(pipeline.totalDeals)} deals, ${money(pipeline.totalCents)}`,
        ...pipeline.stages.map((row) => `${row.stage}: ${count(row.deals)} deals, ${money(row.amountCents)}`),
      ],
    },
    {
      title: 'Where revenue and pipeline came from: channels',
      lines: none(
        sources.channels.map((row) => sourceLine(row, review.currency)),
        'No channel yet.',
      ),
    },
    {
      title: 'Where revenue and pipeline came from: campaigns',
      lines: none(
        sources.campaigns.map((row) => sourceLine(row, review.currency)),
        'No campaign yet.',
      ),
    },
    {
      title: `New customers (${count(review.newCustomers.length)})`,
      lines: none(
        review.newCustomers.map(
          (row) =>
            `${row.accountName ?? row.opportunityName ?? row.opportunityId}: ${money(row.amountCents)}, won ${row.wonAt.slice(0, 10)}, ${row.channel}${row.campaign === null ? '' : ` / ${row.campaign}`}; why won: ${row.reason ?? 'not given'}`,
        ),
        'No new customer in the period.',
      ),
    },
    {
      title: `Losses (${count(losses.deals.length)}, ${money(losses.deals.reduce((sum, row) => sum + row.amountCents, 0))})`,
      lines: none(
        losses.reasons.map((row) => `${row.reason}: ${count(row.deals)} deals, ${money(row.amountCents)}`),
        'No loss in the period.',
      ),
    },
  ];
}

/** Both sides of the SLA, shared goals and the campaigns coming up. */
function agreementBlocks(review: PipelineReview): Block[] {
  const { agreement, upcoming } = review;
  const marketing = agreement.marketing;
  return [
    {
      title: `Marketing's side of the SLA${marketing === null ? '' : ` (${marketing.period.id})`}`,
      lines:
        marketing === null || marketing.commitments.length === 0
          ? ['No commitment for this period.']
          : marketing.commitments.map(
              (row) =>
                `${words(row.metric)}${row.channel === null ? '' : ` (${row.channel})`}: ${count(row.delivered)} of ${count(row.target)}, ${count(row.expectedToDate)} expected by now, forecast ${count(row.forecast)}: ${words(row.status)}`,
            ),
    },
    {
      title: "Sales' side of the SLA",
      lines: [
        `${count(agreement.sales.handedOff)} leads handed off; median time to first touch ${agreement.sales.medianHoursToFirstTouch === null ? '—' : `${agreement.sales.medianHoursToFirstTouch.toLocaleString('en-US', { maximumFractionDigits: 1 })} h`}`,
        ...agreement.sales.rules.map(ruleLine),
      ],
    },
    {
      title: 'Shared goals',
      lines: none(
        review.goals.map(
          (row) =>
            `${words(row.kpi)} (${row.owner}): ${goalValue(row, row.actual, review.currency)} against ${goalValue(row, row.target, review.currency)}, ${words(row.status)}${row.trend === null ? '' : `, ${row.trend} than last quarter`}`,
        ),
        'No goal set for the quarter.',
      ),
    },
    {
      title: 'Marketing campaigns in the next 30 days',
      lines: [
        ...none(
          upcoming.campaigns.map(
            (row) =>
              `${row.startDate.slice(0, 10)} ${row.name}${row.type === null ? '' : ` (${row.type})`}, ${row.source === 'salesforce' ? 'Salesforce' : 'HubSpot'}`,
          ),
          'None starting.',
        ),
        ...upcoming.unavailable.map(
          (row) => `${row.source === 'salesforce' ? 'Salesforce' : 'HubSpot'} campaigns could not be read: ${row.reason}`,
        ),
      ],
    },
  ];
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
/** Slack mrkdwn treats &, < and > as control characters. */
const escapeMrkdwn = (text: string): string => text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c);

/** The digest's email and chat text for one review. */
export function renderDigest(review: PipelineReview, context: DigestContext): DigestMessage {
  const title = `Pipeline review ${review.period.id} — ${context.installationName}`;
  const subject = context.test === true ? `[Test] ${title}` : title;
  const blocks = blocksOf(review);
  const intro = `${context.test === true ? 'A test of the scheduled digest. ' : ''}The review of ${review.period.id} (${review.period.from.slice(0, 10)} to ${review.period.to.slice(0, 10)}), as of ${review.generatedAt.replace('T', ' ').slice(0, 16)} UTC.`;
  const text = [
    title,
    '',
    intro,
    '',
    ...blocks.flatMap((block) => [block.title, ...block.lines.map((line) => `  ${line}`), '']),
    `Open the review: ${context.reviewUrl}`,
    '',
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h1 style="font-size:1.3em">${escapeHtml(title)}</h1>
<p>${escapeHtml(intro)}</p>
${blocks.map((block) => `<h2 style="font-size:1.1em">${escapeHtml(block.title)}</h2>\n<ul>${block.lines.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`).join('\n')}
<p><a href="${escapeHtml(context.reviewUrl)}">Open the review</a></p>
</body></html>`;
  return { subject, text, html, chat: chatText(review, context) };
}

/** The short chat text: the headline numbers of each block, and the link. */
function chatText(review: PipelineReview, context: DigestContext): string {
  const money = (cents: number) => formatMoney(cents, review.currency);
  const { goal, pipeline, agreement } = review;
  const lossCents = review.losses.deals.reduce((sum, row) => sum + row.amountCents, 0);
  const wonCents = review.newCustomers.reduce((sum, row) => sum + row.amountCents, 0);
  const commitments = agreement.marketing?.commitments ?? [];
  const offPace = commitments.filter((row) => row.status === 'at_risk' || row.status === 'behind');
  const rules = agreement.sales.rules.filter((rule) => rule.enabled);
  const lines = [
    `*${escapeMrkdwn(`${context.test === true ? '[Test] ' : ''}Pipeline review ${review.period.id} — ${context.installationName}`)}*`,
    `Closed ${money(goal.closedCents)} of ${goal.targetCents === null ? 'no goal' : `${money(goal.targetCents)} goal`} (${percent(goal.share)})`,
    `Open pipeline ${money(pipeline.totalCents)} in ${count(pipeline.totalDeals)} deals`,
    `New customers ${count(review.newCustomers.length)} (${money(wonCents)}) · Losses ${count(review.losses.deals.length)} (${money(lossCents)})`,
    commitments.length === 0
      ? 'Marketing: no commitment'
      : `Marketing: ${count(commitments.length - offPace.length)} of ${count(commitments.length)} commitments on pace${offPace.length === 0 ? '' : `; ${offPace.map((row) => `${words(row.metric)} ${words(row.status)} (${count(row.delivered)}/${count(row.target)})`).join(', ')}`}`,
    `Sales: ${count(agreement.sales.handedOff)} handed off${rules.length === 0 ? '' : ` · ${rules.map((rule) => `${words(rule.rule)} ${percent(rule.rate)}`).join(' · ')}`}`,
    `Campaigns starting in 30 days: ${count(review.upcoming.campaigns.length)}`,
    `<${context.reviewUrl}|Open the review>`,
  ];
  return lines.join('\n');
}
