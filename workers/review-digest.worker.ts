/**
 * The review digest: each tick sends the digest of every active installation whose slot is due,
 * once per slot; a test job sends one installation's test digest. Thin: parse → send
 * (src/sync/digest.ts) → log what is left to retry.
 */
import type { Job } from 'bullmq';
import type { Logger } from '../src/log.ts';
import type { JobPayload } from '../src/queue/catalog.ts';
import type { ProcessorsOf } from '../src/queue/worker-runner.ts';
import type { InstallationClients } from '../src/runtime/installation-clients.ts';
import { listActiveInstallations } from '../src/store/installations.ts';
import { sendDueDigest, sendTestDigest, type DigestDeps } from '../src/sync/digest.ts';

export interface ReviewDigestWorkerDeps extends Omit<DigestDeps, 'publicUrl'> {
  log: Logger;
  /** The app's public URL (known once HTTP listens). */
  publicUrl: () => string;
}

/** The installation's alert target from its runtime; an installation that cannot connect still gets its email. */
export function alertTargetFrom(clients: InstallationClients): DigestDeps['alertTarget'] {
  return async (installationId) => {
    try {
      const { alert, alertProblem } = (await clients.forInstallation(installationId)).sales;
      return { target: alert, problem: alertProblem };
    } catch (error) {
      return { target: null, problem: error instanceof Error ? error.message : String(error) };
    }
  };
}

async function runReviewDigest(deps: ReviewDigestWorkerDeps, payload: JobPayload<'reviewDigests'>, job: Job): Promise<void> {
  const sending: DigestDeps = { ...deps, publicUrl: deps.publicUrl() };
  if (payload.kind === 'test') {
    const installation = (await listActiveInstallations(deps.db)).find((row) => row.id === payload.installationId);
    if (!installation) return;
    const outcome = await sendTestDigest(sending, installation, payload.requestId);
    if (outcome.failed.length > 0)
      deps.log.warn(
        { installationId: installation.id, failed: outcome.failed, jobId: job.id },
        'test review digest not sent on every channel',
      );
    return;
  }
  for (const installation of await listActiveInstallations(deps.db)) {
    try {
      const outcome = await sendDueDigest(sending, installation);
      if (outcome.retry.length > 0)
        deps.log.warn(
          { installationId: installation.id, slot: outcome.slotId, reasons: outcome.retry },
          'review digest to retry at the next tick',
        );
    } catch (error) {
      // One installation's trouble (its CRM connection, its settings) does not hold up the others.
      deps.log.error(
        { installationId: installation.id, error: error instanceof Error ? error.message : String(error) },
        'review digest check failed',
      );
    }
  }
}

/** The review digest processor for the worker pool. */
export function reviewDigestProcessors(deps: ReviewDigestWorkerDeps): ProcessorsOf<'reviewDigests'> {
  return { reviewDigests: async (payload, job) => runReviewDigest(deps, payload, job) };
}
