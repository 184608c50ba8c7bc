/** The pages viewers read: the funnel report with its agreement, the sales SLA compliance, the pipeline review. */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { parsePeriod, periodContaining } from '../../../domain/commitments.ts';
import { commitmentsReport, goalsReport, marketingCommitmentsOf, sharedGoalsOf } from '../../../store/commitments.ts';
import { revenuePolicyOf } from '../../../store/deals.ts';
import { listInstallationDetails } from '../../../store/installation-admin.ts';
import { funnelReport } from '../../../store/report.ts';
import { access, canManage, canSee } from '../access.ts';
import { identityOf } from '../auth.ts';
import type { AdminContext } from '../context.ts';
import type { AgreementData } from '../pages/agreement.ts';
import { reportBody } from '../pages/report.ts';
import { reviewBody } from '../pages/review.ts';
import { slaComplianceBody } from '../pages/sla-compliance.ts';
import { periodOf, ReportQuerySchema } from '../report-export.ts';
import { reviewOf } from '../review.ts';
import { ComplianceQuerySchema, complianceView, ViolationsQuerySchema, violationsView } from '../sla-compliance.ts';
import { basePath, render, tabInfo, type Pages } from './pages.ts';

/** `/admin/review?installation=&period=`: a month YYYY-MM or a quarter YYYY-Qn. */
const ReviewPageQuery = z.object({ installation: z.string().min(1).max(100).optional(), period: z.string().max(20).optional() }).strict();

/** The report's commitments (current period) and goals (current quarter) of an installation. */
async function agreementOf(ctx: AdminContext, installationId: string, canEdit: boolean): Promise<AgreementData> {
  const now = new Date(ctx.now());
  const commitments = await marketingCommitmentsOf(ctx.db, installationId);
  return {
    installationId,
    commitments: await commitmentsReport(ctx.db, { installationId, commitments, now }),
    goals: await goalsReport(ctx.db, {
      installationId,
      goals: await sharedGoalsOf(ctx.db, installationId),
      quarter: periodContaining('quarter', now).id,
      now,
      revenue: await revenuePolicyOf(ctx.db, installationId),
    }),
    canEdit,
  };
}

/** `/report`: the funnel report of a period (400 with the problems when the query is wrong). */
async function reportPage(ctx: AdminContext, req: Request, res: Response): Promise<void> {
  const identity = identityOf(res);
  const installations = (await listInstallationDetails(ctx.db)).filter((i) => canSee(identity, i.id));
  const parsed = ReportQuerySchema.safeParse(req.query);
  const raw = parsed.success ? parsed.data : {};
  const period = periodOf(parsed.success ? parsed.data : {}, ctx.now());
  const installation =
    installations.find((i) => i.id === ('installation' in raw ? raw.installation : undefined)) ?? installations[0] ?? null;
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
    ...(period.ok ? [] : period.issues),
  ];
  const fromText = period.ok ? period.period.fromText : typeof req.query.from === 'string' ? req.query.from : '';
  const toText = period.ok ? period.period.toText : typeof req.query.to === 'string' ? req.query.to : '';
  const report =
    installation && period.ok && problems.length === 0
      ? await funnelReport(ctx.db, {
          installationId: installation.id,
          from: period.period.from,
          to: period.period.to,
          now: new Date(ctx.now()),
          revenue: await revenuePolicyOf(ctx.db, installation.id),
        })
      : null;
  render(
    res,
    {
      title: 'Funnel report',
      section: 'report',
      installation: installation && req.query.installation ? tabInfo(installation) : undefined,
      scripts: ['vendor/chart.umd.js', 'charts.js', 'report.js'],
      body: reportBody({
        installations,
        installation,
        from: fromText,
        to: toText,
        report,
        problems,
        agreement: installation && report ? await agreementOf(ctx, installation.id, canManage(identity, installation.id)) : null,
      }),
    },
    problems.length > 0 ? 400 : 200,
  );
}

/** `/review`: the pipeline review of a month or quarter (the current quarter by default). */
async function reviewPage(ctx: AdminContext, req: Request, res: Response): Promise<void> {
  const identity = identityOf(res);
  const installations = (await listInstallationDetails(ctx.db)).filter((i) => canSee(identity, i.id));
  const parsed = ReviewPageQuery.safeParse(req.query);
  const now = new Date(ctx.now());
  const wanted = parsed.success ? parsed.data : {};
  const periodText = wanted.period ?? (typeof req.query.period === 'string' ? req.query.period : periodContaining('quarter', now).id);
  const period = parsed.success ? parsePeriod(periodText) : null;
  const installation = installations.find((i) => i.id === wanted.installation) ?? installations[0] ?? null;
  const problems = parsed.success
    ? period === null
      ? [`Period: ${periodText} is not a month YYYY-MM or a quarter YYYY-Qn`]
      : []
    : parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`);
  const review = installation && period && problems.length === 0 ? await reviewOf(ctx, installation.id, period, now) : null;
  render(
    res,
    {
      title: 'Pipeline review',
      section: 'review',
      installation: installation && req.query.installation ? tabInfo(installation) : undefined,
      scripts: ['vendor/chart.umd.js', 'charts.js', 'review.js'],
      body: reviewBody({
        installations,
        installation,
        periodText,
        review,
        problems,
        canManage: installation !== null && canManage(identity, installation.id),
      }),
    },
    problems.length > 0 ? 400 : 200,
  );
}

/** `/report`, `/installations/:id/sla` and `/review`. */
export function reportRoutes({ ctx, r, withInstallation }: Pages): void {
  r.get('/report', access.viewNamedInstallation, (req, res) => reportPage(ctx, req, res));

  // The sales side of the SLA: compliance per grouping, each broken count a link to those leads (viewers may read).
  r.get(
    '/installations/:id/sla',
    access.viewInstallation,
    withInstallation(async (req, res, installation) => {
      const wantsList = req.query.rule !== undefined;
      const listQuery = wantsList ? ViolationsQuerySchema.safeParse(req.query) : null;
      const pageQuery = wantsList ? null : ComplianceQuerySchema.safeParse(req.query);
      const error = listQuery?.error ?? pageQuery?.error;
      const problems = error ? error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`) : [];
      const query = listQuery?.data ?? pageQuery?.data ?? ComplianceQuerySchema.parse({});
      const compliance = await complianceView(ctx, installation, query);
      const list = listQuery?.data ? await violationsView(ctx, installation, listQuery.data) : null;
      render(
        res,
        {
          title: 'Sales SLA compliance',
          section: 'report',
          installation: tabInfo(installation),
          body: slaComplianceBody({
            basePath: basePath(installation),
            from: compliance.from,
            to: compliance.to,
            groupBy: query.groupBy,
            sales: compliance.sales,
            problems,
            violations: list === null || !listQuery?.data ? null : { rule: listQuery.data.rule, group: list.group, rows: list.violations },
          }),
        },
        problems.length > 0 ? 400 : 200,
      );
    }),
  );

  // The pipeline review: like the report, viewers of the installation read it.
  r.get('/review', access.viewNamedInstallation, (req, res) => reviewPage(ctx, req, res));
}
