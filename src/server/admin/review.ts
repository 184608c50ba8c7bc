/** The pipeline review for the API and the page: the CRM clients of the installation when they can be reached. */
import type { CommitmentPeriod } from '../../domain/commitments.ts';
import type { PipelineReview } from '../../domain/review.ts';
import { pipelineReview, storedReview } from '../../sync/review.ts';
import type { AdminContext } from './context.ts';
import { runtimeOf } from './installations.ts';

/** The review of a period; without reachable CRMs its stored blocks, with both campaign sides named unavailable. */
export async function reviewOf(ctx: AdminContext, installationId: string, period: CommitmentPeriod, now: Date): Promise<PipelineReview> {
  const runtime = await runtimeOf(ctx, installationId);
  if ('error' in runtime) {
    const reason = `The CRMs cannot be reached: ${runtime.error}`;
    return storedReview(ctx.db, { installationId, period, now, upcoming: { campaigns: [], unavailable: [{ source: 'salesforce', reason }, { source: 'hubspot', reason }] } });
  }
  return pipelineReview({ db: ctx.db, hubspot: runtime.hubspot, salesforce: runtime.salesforce, installationId }, { period, now });
}
