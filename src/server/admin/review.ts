/** The pipeline review for the API and the page, with the installation's CRM clients when they can be reached. */
import type { CommitmentPeriod } from '../../domain/commitments.ts';
import type { PipelineReview } from '../../domain/review.ts';
import { reviewOfInstallation } from '../../sync/review.ts';
import type { AdminContext } from './context.ts';
import { runtimeOf } from './installations.ts';

/** The review of a period; without reachable CRMs its stored blocks, with both campaign sides named unavailable. */
export async function reviewOf(ctx: AdminContext, installationId: string, period: CommitmentPeriod, now: Date): Promise<PipelineReview> {
  return reviewOfInstallation(
    ctx.db,
    async (id) => {
      const runtime = await runtimeOf(ctx, id);
      if ('error' in runtime) throw new Error(runtime.error);
      return runtime;
    },
    installationId,
    { period, now },
  );
}
