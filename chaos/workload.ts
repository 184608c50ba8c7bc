/**
 * Drives the journeys: every round takes the steps that are due, runs the marketers' UI edits
 * (a few at a time) and the reps' Salesforce work (batched per rep, as list-view mass actions:
 * sObject Collections for updates and creates, `convertLead` up to 100 at a time, SOAP `merge`
 * up to 200), then schedules each journey's next step after its pause. A rep can only work a Lead
 * the app has created, so journeys wait (polling Salesforce) until their Lead exists; so does a
 * marketer's merge of contacts that are being handed off.
 */
import type jsforce from 'jsforce';
import { mergeContacts, retrying, type HubSpotSandboxClient } from './crm.ts';
import { leadsAwaited, type Journey, type Step, type Who } from './journeys.ts';

export interface WorkloadDeps {
  hubspot: HubSpotSandboxClient;
  /** The portal's private-app token: merges go through the CRM API (the sandbox UI controls have none). */
  hubspotToken: string;
  reps: jsforce.Connection[];
  /** Stop waiting for a Lead the app never creates after this long. */
  leadWaitMs: number;
  progress(line: string): void;
}

export interface WorkloadResult {
  steps: number;
  /** Steps that could not be taken: the journey is excluded from the checks and the run fails. */
  errors: { journey: number; step: string; error: string }[];
  durationMs: number;
}

const LEAD_LOOKUP_INTERVAL_MS = 1_000;
const UI_CONCURRENCY = 6;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function inPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(size, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

const HUBSPOT_STEPS = new Set<Step['kind']>(['hs-create', 'hs-mql', 'hs-edit-phone', 'hs-edit-email', 'hs-merge', 'hs-optout']);

/** The Salesforce records a journey's step waits for that the app has not made yet. */
function missingLeads(journey: Journey, step: Step): Who[] {
  return leadsAwaited(step).filter((who) => (who === 'person' ? journey.state.leadId : journey.state.partnerLeadId) === undefined);
}

function currentStep(journey: Journey): Step {
  const entry = journey.steps[journey.state.next];
  if (!entry) throw new Error(`journey ${journey.index} has no step ${journey.state.next}`);
  return entry.step;
}

interface SaveResult {
  id?: string | null;
  success: boolean;
  errors?: unknown[];
}

function describeErrors(result: SaveResult): string {
  return JSON.stringify(result.errors ?? []).slice(0, 300);
}

/**
 * What the marketer's merge leaves: the journey follows the merged contact, linked to the primary's
 * Lead when it has one, else the other's (the product's rule, src/domain/record-identity.ts); a
 * second Lead loses its contact.
 */
function mergeHubSpotContacts(journey: Journey, primary: Who, survivorId: string): void {
  const { state } = journey;
  const leads = { person: state.leadId, partner: state.partnerLeadId };
  const other: Who = primary === 'person' ? 'partner' : 'person';
  const kept = leads[primary] ?? leads[other];
  const unlinked = kept === leads[primary] ? leads[other] : undefined;
  state.mergedContactIds = [state.contactId, state.partnerContactId].filter((id): id is string => id !== undefined);
  state.contactId = survivorId;
  if (kept === undefined) delete state.leadId;
  else state.leadId = kept;
  if (unlinked !== undefined) state.unlinkedLeadId = unlinked;
}

/** Runs every journey to its end; resolves when the last step is taken. */
export async function runWorkload(journeys: Journey[], deps: WorkloadDeps): Promise<WorkloadResult> {
  const started = Date.now();
  const errors: WorkloadResult['errors'] = [];
  let steps = 0;
  let lastLookup = 0;
  const waitingSince = new Map<number, number>();

  const fail = (journey: Journey, error: unknown) => {
    errors.push({ journey: journey.index, step: currentStep(journey).kind, error: error instanceof Error ? error.message : String(error) });
    journey.state.done = true;
  };
  const advance = (journey: Journey) => {
    steps += 1;
    journey.state.next += 1;
    const next = journey.steps[journey.state.next];
    if (next === undefined) journey.state.done = true;
    else journey.state.dueAt = Date.now() - started + next.delayMs;
  };

  // The marketer, in the HubSpot UI.
  const uiStep = async (journey: Journey): Promise<void> => {
    const step = currentStep(journey);
    try {
      const partner = journey.partner;
      const contactOf = (who: Who = 'person'): string => {
        const id = who === 'person' ? journey.state.contactId : journey.state.partnerContactId;
        if (id === undefined) throw new Error(`no ${who === 'person' ? '' : 'second '}contact to edit`);
        return id;
      };
      if (step.kind === 'hs-create' && step.who === 'partner') {
        if (!partner) throw new Error('no second contact planned');
        journey.state.partnerContactId = await deps.hubspot.createContact({
          ...partner,
          lifecyclestage: 'lead',
          ...(step.withPhone ? { phone: journey.phone } : {}),
        });
      } else if (step.kind === 'hs-create') {
        journey.state.contactId = await deps.hubspot.createContact({
          email: journey.email,
          firstname: journey.firstname,
          lastname: journey.lastname,
          company: journey.company,
          lifecyclestage: 'lead',
          ...(step.withPhone ? { phone: journey.phone } : {}),
        });
      } else if (step.kind === 'hs-mql') {
        await deps.hubspot.editContact(contactOf(step.who), { lifecyclestage: 'marketingqualifiedlead' });
      } else if (step.kind === 'hs-edit-phone') {
        await deps.hubspot.editContact(contactOf(), { phone: journey.phone });
      } else if (step.kind === 'hs-edit-email') {
        await deps.hubspot.editContact(contactOf(), { email: journey.newEmail });
      } else if (step.kind === 'hs-optout') {
        await deps.hubspot.unsubscribe(contactOf());
      } else if (step.kind === 'hs-merge') {
        mergeHubSpotContacts(
          journey,
          step.primary,
          await mergeContacts(
            deps.hubspot.url,
            deps.hubspotToken,
            contactOf(step.primary),
            contactOf(step.primary === 'person' ? 'partner' : 'person'),
          ),
        );
      } else {
        throw new Error(`${step.kind} is not a HubSpot step`);
      }
      advance(journey);
    } catch (error) {
      fail(journey, error);
    }
  };

  // A rep's mass action on Leads or Opportunities (sObject Collections, ≤ 200 records).
  const repSave = async (
    rep: jsforce.Connection,
    object: 'Lead' | 'Opportunity',
    mode: 'create' | 'update',
    batch: Journey[],
    record: (j: Journey) => Record<string, unknown>,
    after: (j: Journey, result: SaveResult) => void,
  ) => {
    for (const part of chunks(batch, 200)) {
      try {
        const records = part.map(record);
        const results = (await retrying(`rep ${mode} of ${part.length} ${object}s`, async () =>
          mode === 'create'
            ? rep.sobject(object).create(records, { allOrNone: false })
            : rep.sobject(object).update(records as { Id: string }[], { allOrNone: false }),
        )) as SaveResult[];
        part.forEach((journey, i) => {
          const result = results[i];
          if (!result?.success)
            return fail(journey, new Error(`Salesforce refused the ${object} ${mode}: ${result ? describeErrors(result) : 'no result'}`));
          after(journey, result);
          advance(journey);
        });
      } catch (error) {
        for (const journey of part) fail(journey, error);
      }
    }
  };

  // A rep's merges of duplicate Leads (SOAP merge, ≤ 200 requests a call); the master keeps the email.
  const repMerge = async (rep: jsforce.Connection, batch: Journey[]) => {
    const plan = (j: Journey) => {
      const step = currentStep(j);
      const lead = j.state.leadId ?? '';
      const duplicate = j.state.duplicateLeadId ?? '';
      return step.kind === 'sf-merge' && step.master === 'duplicate'
        ? { master: duplicate, loser: lead, fields: { Email: j.email } }
        : { master: lead, loser: duplicate, fields: {} };
    };
    for (const part of chunks(batch, 200)) {
      try {
        const plans = part.map(plan);
        const results = await retrying(`rep merge of ${part.length} Lead pairs`, () =>
          rep.soap.merge(plans.map((p) => ({ masterRecord: { type: 'Lead', Id: p.master, ...p.fields }, recordToMergeIds: [p.loser] }))),
        );
        // A merge that went through before a retried call answers "deleted" the second time: the recycle bin tells.
        const binned = new Map(
          (
            await retrying('rep recycle bin lookup', () =>
              rep.query<{ Id: string; MasterRecordId: string | null }>(
                `SELECT Id, MasterRecordId FROM Lead WHERE Id IN (${plans.map((p) => `'${p.loser}'`).join(',')}) AND IsDeleted = true`,
                { scanAll: true },
              ),
            )
          ).records.map((r) => [r.Id.slice(0, 15), r.MasterRecordId?.slice(0, 15)]),
        );
        part.forEach((journey, i) => {
          const p = plans[i];
          const result = results[i];
          if (!p) return;
          if (String(result?.success) !== 'true' && binned.get(p.loser.slice(0, 15)) !== p.master.slice(0, 15)) {
            fail(
              journey,
              new Error(`merge of Lead ${p.loser} into ${p.master} failed: ${JSON.stringify(result?.errors ?? 'no result').slice(0, 300)}`),
            );
            return;
          }
          journey.state.leadId = p.master;
          journey.state.mergedLeadId = p.loser;
          advance(journey);
        });
      } catch (error) {
        for (const journey of part) fail(journey, error);
      }
    }
  };

  const repConvert = async (rep: jsforce.Connection, batch: Journey[]) => {
    for (const part of chunks(batch, 100)) {
      try {
        const answer = await retrying(`rep convertLead of ${part.length} Leads`, () =>
          rep.soap.convertLead(
            part.map((j) => ({ leadId: j.state.leadId ?? '', convertedStatus: 'Closed - Converted', doNotCreateOpportunity: false })),
          ),
        );
        const results = Array.isArray(answer) ? answer : [answer];
        for (const journey of part) {
          const result = results.find(
            (r) => r.leadId !== undefined && r.leadId !== null && r.leadId.slice(0, 15) === journey.state.leadId?.slice(0, 15),
          );
          const success = result !== undefined && String(result.success) === 'true';
          if (!success || !result.opportunityId) {
            fail(journey, new Error(`convertLead failed: ${JSON.stringify(result?.errors ?? 'no result').slice(0, 300)}`));
            continue;
          }
          journey.state.opportunityId = result.opportunityId;
          advance(journey);
        }
      } catch (error) {
        for (const journey of part) fail(journey, error);
      }
    }
  };

  // Journeys waiting for the Leads the app creates at handoff.
  const lookUpLeads = async (waiting: Journey[]) => {
    const rep = deps.reps[0];
    if (!rep || waiting.length === 0) return;
    for (const part of chunks(waiting, 75)) {
      const ids = part
        .flatMap((j) => [j.state.contactId, j.state.partnerContactId])
        .filter((id): id is string => id !== undefined)
        .map((id) => `'${id}'`)
        .join(',');
      const found = await retrying('rep Lead lookup', () =>
        rep.query<{ Id: string; HubSpot_Contact_Id__c: string }>(
          `SELECT Id, HubSpot_Contact_Id__c FROM Lead WHERE HubSpot_Contact_Id__c IN (${ids})`,
        ),
      );
      const byContact = new Map(found.records.map((r) => [r.HubSpot_Contact_Id__c, r.Id]));
      for (const journey of part) {
        const leadId = byContact.get(journey.state.contactId ?? '');
        if (leadId !== undefined && journey.state.leadId === undefined) journey.state.leadId = leadId;
        const partnerLeadId = byContact.get(journey.state.partnerContactId ?? '');
        if (partnerLeadId !== undefined && journey.state.partnerLeadId === undefined) journey.state.partnerLeadId = partnerLeadId;
      }
    }
  };

  while (journeys.some((j) => !j.state.done)) {
    const now = Date.now() - started;
    const due = journeys.filter((j) => !j.state.done && j.state.dueAt <= now);
    const ui: Journey[] = [];
    const needLead: Journey[] = [];
    const perRep = new Map<
      number,
      { creates: Journey[]; leadUpdates: Journey[]; merges: Journey[]; converts: Journey[]; opportunityUpdates: Journey[] }
    >();
    for (const journey of due) {
      const step = currentStep(journey);
      const missing = missingLeads(journey, step);
      if (missing.length > 0) {
        const since = waitingSince.get(journey.index) ?? Date.now();
        waitingSince.set(journey.index, since);
        const contacts = missing
          .map((who) => (who === 'person' ? journey.state.contactId : journey.state.partnerContactId) ?? '?')
          .join(', ');
        if (Date.now() - since > deps.leadWaitMs)
          fail(journey, new Error(`the app created no Lead for contact ${contacts} within ${deps.leadWaitMs / 1000} s`));
        else needLead.push(journey);
        continue;
      }
      if (HUBSPOT_STEPS.has(step.kind)) {
        ui.push(journey);
        continue;
      }
      const work = perRep.get(journey.rep) ?? { creates: [], leadUpdates: [], merges: [], converts: [], opportunityUpdates: [] };
      perRep.set(journey.rep, work);
      if (step.kind === 'sf-create' || step.kind === 'sf-create-duplicate') work.creates.push(journey);
      else if (step.kind === 'sf-accept' || step.kind === 'sf-reject' || step.kind === 'sf-edit-email' || step.kind === 'sf-optout')
        work.leadUpdates.push(journey);
      else if (step.kind === 'sf-merge') work.merges.push(journey);
      else if (step.kind === 'sf-convert') work.converts.push(journey);
      else work.opportunityUpdates.push(journey);
    }

    const tasks: Promise<void>[] = [inPool(ui, UI_CONCURRENCY, uiStep)];
    for (const [repIndex, work] of perRep) {
      const rep = deps.reps[repIndex % deps.reps.length];
      if (!rep) continue;
      tasks.push(
        (async () => {
          // A duplicate typed in by hand has no email (so it makes no contact of its own).
          await repSave(
            rep,
            'Lead',
            'create',
            work.creates,
            (j) => ({
              FirstName: j.firstname,
              LastName: j.lastname,
              Company: j.company,
              ...(currentStep(j).kind === 'sf-create' ? { Email: j.email, Phone: j.phone } : {}),
            }),
            (j, r) => {
              if (!r.id) return;
              if (currentStep(j).kind === 'sf-create') j.state.leadId = r.id;
              else j.state.duplicateLeadId = r.id;
            },
          );
          await repSave(
            rep,
            'Lead',
            'update',
            work.leadUpdates,
            (j) => {
              const step = currentStep(j);
              switch (step.kind) {
                case 'sf-reject':
                  return {
                    Id: j.state.leadId,
                    Status: 'Closed - Not Converted',
                    Feedback_Reason__c: step.reason,
                    Feedback_Notes__c: `Chaos journey ${j.index}: ${step.reason.toLowerCase()}`,
                  };
                case 'sf-edit-email':
                  return { Id: j.state.leadId, Email: j.newEmail };
                case 'sf-optout':
                  return { Id: j.state.leadId, HasOptedOutOfEmail: true };
                default:
                  return { Id: j.state.leadId, Status: 'Working - Contacted' };
              }
            },
            () => undefined,
          );
          await repMerge(rep, work.merges);
          await repConvert(rep, work.converts);
          await repSave(
            rep,
            'Opportunity',
            'update',
            work.opportunityUpdates,
            (j) => {
              const step = currentStep(j);
              return step.kind === 'sf-win'
                ? { Id: j.state.opportunityId, StageName: 'Closed Won', Amount: step.amount }
                : { Id: j.state.opportunityId, StageName: 'Closed Lost', Loss_Reason__c: step.kind === 'sf-lose' ? step.reason : 'Other' };
            },
            () => undefined,
          );
        })(),
      );
    }
    if (needLead.length > 0 && Date.now() - lastLookup >= LEAD_LOOKUP_INTERVAL_MS) {
      lastLookup = Date.now();
      tasks.push(
        lookUpLeads(needLead).catch((error: unknown) =>
          deps.progress(`lead lookup failed, trying again: ${error instanceof Error ? error.message : String(error)}`),
        ),
      );
    }
    await Promise.all(tasks);

    const open = journeys.filter((j) => !j.state.done);
    const nextDue = Math.min(...open.map((j) => j.state.dueAt));
    await sleep(Math.max(20, Math.min(200, nextDue - (Date.now() - started))));
  }
  return { steps, errors, durationMs: Date.now() - started };
}
