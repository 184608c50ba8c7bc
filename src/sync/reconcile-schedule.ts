/** The reconciler's repeat, one BullMQ job scheduler per installation (shared by all workers). */
import type { Producer } from '../queue/producer.ts';

/** Creates or updates the installation's reconcile scheduler. */
export async function scheduleReconcile(producer: Producer, installationId: string, everyMs: number): Promise<void> {
  await producer
    .queue('reconcile')
    .upsertJobScheduler(`reconcile-${installationId}`, { every: everyMs }, { name: 'reconcile', data: { v: 1, installationId } });
}
