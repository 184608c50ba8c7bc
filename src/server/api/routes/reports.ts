/** What viewers read: commitments, goals, the funnel report (JSON or CSV), SLA compliance, the pipeline review; and the sync log search. */
import { z } from 'zod';
import { parsePeriod, periodContaining } from '../../../domain/commitments.ts';
import { commitmentsReport, goalsReport, marketingCommitmentsOf, sharedGoalsOf } from '../../../store/commitments.ts';
import { revenuePolicyOf } from '../../../store/deals.ts';
import { getInstallationDetails, listInstallationDetails } from '../../../store/installation-admin.ts';
import { funnelReport } from '../../../store/report.ts';
import { searchRecordLog } from '../../../store/sync-search.ts';
import { access, canSee } from '../../admin/access.ts';
import { identityOf } from '../../admin/auth.ts';
import { periodOf, ReportQuerySchema, reportCsv } from '../../admin/report-export.ts';
import { reviewOf } from '../../admin/review.ts';
import { ComplianceQuerySchema, complianceView, ViolationsQuerySchema, violationsView } from '../../admin/sla-compliance.ts';
import { parseInput, sendError } from '../errors.ts';
import type { ApiRoutes } from './kit.ts';

/** `?period=` of the commitments: a month `YYYY-MM` or a quarter `YYYY-Qn`; absent, the current one. */
const commitmentsQuery = z
  .object({
    period: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$/, 'must be a month YYYY-MM or a quarter YYYY-Qn')
      .optional(),
  })
  .strict();
/** `?quarter=` of the goal table; absent, the current one. */
const goalsQuery = z
  .object({
    quarter: z
      .string()
      .regex(/^\d{4}-Q[1-4]$/, 'must be a quarter YYYY-Qn, e.g. 2026-Q4')
      .optional(),
  })
  .strict();
/** `GET /api/review`: the installation (required) and a month or quarter. */
const reviewQuery = z
  .object({ installation: z.string({ error: 'is required' }).min(1, 'is required').max(100), period: commitmentsQuery.shape.period })
  .strict();
const searchQuery = z
  .object({
    q: z.string().trim().min(1, 'give an email or a record id').max(320),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();

/** The 400 for a period that is neither a month nor a quarter. */
const NOT_A_PERIOD = (period: string | undefined) => `Invalid query: period: ${period ?? ''} is not a month or a quarter`;

/** `/installations/:id/commitments` and `/installations/:id/goals`: the agreement between marketing and sales. */
export function agreementRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
  r.get('/installations/:id/commitments', access.viewInstallation, async (req, res) => {
    const query = parseInput(commitmentsQuery, req.query, res, 'query');
    if (!query) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const commitments = await marketingCommitmentsOf(ctx.db, installation.id);
    const period = query.period === undefined ? undefined : parsePeriod(query.period);
    if (period === null) return sendError(res, 400, 'invalid_request', NOT_A_PERIOD(query.period));
    if (period !== undefined && period.kind !== commitments.period) {
      return sendError(
        res,
        400,
        'invalid_request',
        `Invalid query: period: the commitments are per ${commitments.period}: give a ${commitments.period === 'month' ? 'month YYYY-MM' : 'quarter YYYY-Qn'}`,
      );
    }
    const report = await commitmentsReport(ctx.db, {
      installationId: installation.id,
      commitments,
      now: new Date(ctx.now()),
      ...(period ? { period } : {}),
    });
    res.json(report);
  });

  r.get('/installations/:id/goals', access.viewInstallation, async (req, res) => {
    const query = parseInput(goalsQuery, req.query, res, 'query');
    if (!query) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const now = new Date(ctx.now());
    const quarter = query.quarter ?? periodContaining('quarter', now).id;
    res.json(
      await goalsReport(ctx.db, {
        installationId: installation.id,
        goals: await sharedGoalsOf(ctx.db, installation.id),
        quarter,
        now,
        revenue: await revenuePolicyOf(ctx.db, installation.id),
      }),
    );
  });
}

/** `/report`: the funnel report of a period, as JSON or one table as CSV. */
export function reportRoutes({ ctx, r }: ApiRoutes): void {
  r.get('/report', access.viewNamedInstallation, async (req, res) => {
    const query = parseInput(ReportQuerySchema, req.query, res, 'query');
    if (!query) return;
    const period = periodOf(query, ctx.now());
    if (!period.ok) return sendError(res, 400, 'invalid_request', `Invalid query: ${period.issues[0] ?? ''}`, period.issues);
    const identity = identityOf(res);
    const installationId = query.installation ?? (await listInstallationDetails(ctx.db)).find((i) => canSee(identity, i.id))?.id;
    if (!installationId) return sendError(res, 404, 'not_found', 'No installation yet');
    if (!(await getInstallationDetails(ctx.db, installationId)))
      return sendError(res, 404, 'not_found', `No installation ${installationId}`);
    const report = await funnelReport(ctx.db, {
      installationId,
      from: period.period.from,
      to: period.period.to,
      now: new Date(ctx.now()),
      revenue: await revenuePolicyOf(ctx.db, installationId),
    });
    if (query.format === 'csv') {
      res
        .type('text/csv; charset=utf-8')
        .attachment(`funnel-${query.table}-${period.period.fromText}-to-${period.period.toText}.csv`)
        .send(reportCsv(report, query.table));
      return;
    }
    res.json(report);
  });
}

/** The sales side of the SLA, the pipeline review, and the sync log search. */
export function salesRoutes({ ctx, r, installationFrom }: ApiRoutes): void {
  // The sales side of the SLA: compliance per rule and group, and the handoffs that broke a rule (viewers may read).
  r.get('/installations/:id/sla/compliance', access.viewInstallation, async (req, res) => {
    const query = parseInput(ComplianceQuerySchema, req.query, res, 'query');
    if (!query) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json(await complianceView(ctx, installation, query));
  });

  r.get('/installations/:id/sla/violations', access.viewInstallation, async (req, res) => {
    const query = parseInput(ViolationsQuerySchema, req.query, res, 'query');
    if (!query) return;
    const installation = await installationFrom(req, res);
    if (!installation) return;
    res.json(await violationsView(ctx, installation, query));
  });

  // The pipeline review: viewers of the installation may read it; a missing installation is a 400.
  r.get('/review', access.viewNamedInstallation, async (req, res) => {
    const query = parseInput(reviewQuery, req.query, res, 'query');
    if (!query) return;
    const installation = await getInstallationDetails(ctx.db, query.installation);
    if (!installation) return sendError(res, 404, 'not_found', `No installation ${query.installation}`);
    const now = new Date(ctx.now());
    const period = query.period === undefined ? periodContaining('quarter', now) : parsePeriod(query.period);
    if (period === null) return sendError(res, 400, 'invalid_request', NOT_A_PERIOD(query.period));
    res.json(await reviewOf(ctx, installation.id, period, now));
  });

  r.get('/installations/:id/sync-log', access.manageInstallation, async (req, res) => {
    const installation = await installationFrom(req, res);
    if (!installation) return;
    const query = parseInput(searchQuery, req.query, res, 'query');
    if (!query) return;
    res.json(await searchRecordLog(ctx.db, installation.id, query.q, query.limit));
  });
}
