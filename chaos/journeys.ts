/**
 * The scripted workload: lead journeys drawn from a seeded PRNG, each a list of steps a marketer
 * (HubSpot UI) or a sales rep (their own Salesforce session) takes, and the final state both CRMs
 * must show once the app has caught up. Besides the funnel, people change the records' identity:
 * marketers merge contacts and change emails, reps merge Leads and change emails, people opt out
 * (docs/architecture.md §17, §18).
 */

/** Mulberry32: the same seed gives the same journeys, delays and fault rolls. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const JOURNEY_KINDS = [
  'lead',
  'mql',
  'edit-mql',
  'accept',
  'reject',
  'recycle',
  'convert',
  'win',
  'lose',
  'sf-open',
  'sf-accept',
  'sf-win',
  'collision',
  'hs-merge-both',
  'hs-merge-one',
  'hs-merge-none',
  'sf-merge',
  'hs-email-early',
  'hs-email-late',
  'sf-email',
  'sf-optout',
  'hs-optout',
] as const;
export type JourneyKind = (typeof JOURNEY_KINDS)[number];

/** How often each kind is drawn (relative weights). */
const WEIGHTS: Record<JourneyKind, number> = {
  lead: 6,
  mql: 8,
  'edit-mql': 6,
  accept: 12,
  reject: 8,
  recycle: 6,
  convert: 10,
  win: 12,
  lose: 8,
  'sf-open': 5,
  'sf-accept': 6,
  'sf-win': 5,
  collision: 5,
  'hs-merge-both': 4,
  'hs-merge-one': 3,
  'hs-merge-none': 2,
  'sf-merge': 4,
  'hs-email-early': 2,
  'hs-email-late': 3,
  'sf-email': 3,
  'sf-optout': 3,
  'hs-optout': 3,
};

/** Reasons a rep gives: some recycle the lead to nurture (the default taxonomy: bad timing, no budget). */
const REJECT_REASONS = ['No need', 'No authority', 'Competitor', 'Wrong contact data', 'Duplicate', 'Other'] as const;
const RECYCLE_REASONS = ['Bad timing', 'No budget'] as const;
const LOSS_REASONS = ['Competitor', 'No budget', 'No need', 'Bad timing', 'Other'] as const;

/** Whose record a step works on: the journey's person, or the second contact of a HubSpot merge. */
export type Who = 'person' | 'partner';

export type Step =
  | { kind: 'hs-create'; withPhone: boolean; who?: Who }
  | { kind: 'hs-mql'; who?: Who }
  | { kind: 'hs-edit-phone' }
  /** The marketer changes the contact's email; `afterLead`: once its Lead exists. */
  | { kind: 'hs-edit-email'; afterLead: boolean }
  /** The marketer merges the two contacts (`POST /crm/v3/objects/contacts/merge`), once the Leads `await` names exist. */
  | { kind: 'hs-merge'; primary: Who; await: Who[] }
  /** The recipient unsubscribes from all email (a marketing email's footer link). */
  | { kind: 'hs-optout' }
  | { kind: 'sf-create' }
  | { kind: 'sf-accept' }
  | { kind: 'sf-reject'; reason: string }
  | { kind: 'sf-convert' }
  | { kind: 'sf-win'; amount: number }
  | { kind: 'sf-lose'; reason: string }
  | { kind: 'sf-edit-email' }
  | { kind: 'sf-optout' }
  /** A rep types in a duplicate of the journey's Lead (name and company, no email). */
  | { kind: 'sf-create-duplicate' }
  /** The rep merges the two Leads (SOAP `merge`); the master keeps the email. */
  | { kind: 'sf-merge'; master: 'duplicate' | 'lead' };

/** The steps a rep takes on the journey's Lead, and the HubSpot steps that wait for it: they wait until the app has made it. */
export function leadsAwaited(step: Step): Who[] {
  switch (step.kind) {
    case 'sf-accept':
    case 'sf-reject':
    case 'sf-convert':
    case 'sf-edit-email':
    case 'sf-optout':
    case 'sf-create-duplicate':
    case 'sf-merge':
    case 'hs-optout':
      return ['person'];
    case 'hs-edit-email':
      return step.afterLead ? ['person'] : [];
    case 'hs-merge':
      return step.await;
    default:
      return [];
  }
}

/** The state a journey must end in. `undefined` in a HubSpot field: not checked (timing decides it). */
export interface Expected {
  hubspot: {
    lifecyclestage: string | null;
    hs_lead_status?: string | null;
    sales_feedback_status?: string | null;
    phone?: string;
    email?: string;
  };
  /** The journey's Lead, or null when none may exist. */
  lead: null | { Status: string; IsConverted: boolean; Phone?: string; Email?: string };
  opportunity?: 'open' | 'won' | 'lost';
  /** Both sides opted out of email, and HubSpot never subscribed the contact again. */
  optedOut?: true;
  /** A HubSpot merge: the merged-away contacts are gone and nothing names them; `unlinkedLead`: the other Lead is kept, let go of its contact, linked to nothing. */
  merge?: { unlinkedLead: boolean };
  /** A Salesforce merge: the merged-away Lead is gone and nothing names it. */
  leadMerge?: true;
}

export interface Journey {
  index: number;
  kind: JourneyKind;
  email: string;
  firstname: string;
  lastname: string;
  company: string;
  phone: string;
  /** The email a step changes it to (email journeys). */
  newEmail: string;
  /** The second contact of a HubSpot merge journey. */
  partner?: { email: string; firstname: string; lastname: string; company: string };
  /** The rep who works the Lead (index into the rep sessions). */
  rep: number;
  steps: { step: Step; delayMs: number }[];
  expected: Expected;
  /** Filled in while the workload runs. */
  state: {
    next: number;
    dueAt: number;
    /** The journey's contact: after a HubSpot merge, the survivor. */
    contactId?: string;
    /** The journey's Lead: after a merge, the one its contact stays linked to. */
    leadId?: string;
    opportunityId?: string;
    partnerContactId?: string;
    partnerLeadId?: string;
    /** Contacts a HubSpot merge took away, and the Lead that lost its contact. */
    mergedContactIds?: string[];
    unlinkedLeadId?: string;
    /** A rep's duplicate Lead, and the Lead a Salesforce merge took away. */
    duplicateLeadId?: string;
    mergedLeadId?: string;
    done: boolean;
  };
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Katherine', 'Linus', 'Margaret', 'Edsger', 'Barbara', 'Donald', 'Frances'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Johnson', 'Torvalds', 'Hamilton', 'Dijkstra', 'Liskov', 'Knuth', 'Allen'];
const COMPANY = ['Analytical Engines', 'Compiler Corp', 'Enigma Labs', 'Orbital Math', 'Kernel Works'];

function stepsOf(kind: JourneyKind, pick: <T>(items: readonly T[]) => T, amount: number): Step[] {
  // A contact made without a phone gets one later (the edit is a real change that syncs).
  const create: Step = { kind: 'hs-create', withPhone: kind !== 'edit-mql' && kind !== 'sf-optout' };
  const handoff: Step[] = [create, { kind: 'hs-mql' }];
  const converted: Step[] = [...handoff, { kind: 'sf-accept' }, { kind: 'sf-convert' }];
  switch (kind) {
    case 'lead':
      return [create];
    case 'mql':
      return handoff;
    // The marketer completes the contact, then qualifies it: the Lead carries the new value.
    case 'edit-mql':
      return [create, { kind: 'hs-edit-phone' }, { kind: 'hs-mql' }];
    case 'accept':
      return [...handoff, { kind: 'sf-accept' }];
    case 'reject':
      return [...handoff, { kind: 'sf-reject', reason: pick(REJECT_REASONS) }];
    case 'recycle':
      return [...handoff, { kind: 'sf-reject', reason: pick(RECYCLE_REASONS) }];
    case 'convert':
      return converted;
    case 'win':
      return [...converted, { kind: 'sf-win', amount }];
    case 'lose':
      return [...converted, { kind: 'sf-lose', reason: pick(LOSS_REASONS) }];
    case 'sf-open':
      return [{ kind: 'sf-create' }];
    case 'sf-accept':
      return [{ kind: 'sf-create' }, { kind: 'sf-accept' }];
    case 'sf-win':
      return [{ kind: 'sf-create' }, { kind: 'sf-accept' }, { kind: 'sf-convert' }, { kind: 'sf-win', amount }];
    case 'collision':
      return [create, { kind: 'sf-create' }, { kind: 'hs-mql' }];
    // Two contacts of one person, both handed off: the marketer merges them.
    case 'hs-merge-both':
      return [
        create,
        { kind: 'hs-create', withPhone: true, who: 'partner' },
        { kind: 'hs-mql' },
        { kind: 'hs-mql', who: 'partner' },
        { kind: 'hs-merge', primary: pick(['person', 'partner'] as const), await: ['person', 'partner'] },
      ];
    // One handed off, the other still a lead: either may be the primary.
    case 'hs-merge-one':
      return [
        ...handoff,
        { kind: 'hs-create', withPhone: true, who: 'partner' },
        { kind: 'hs-merge', primary: pick(['person', 'partner'] as const), await: ['person'] },
      ];
    // Neither handed off yet: the merged contact is qualified afterwards and gets one Lead.
    case 'hs-merge-none':
      return [
        create,
        { kind: 'hs-create', withPhone: true, who: 'partner' },
        { kind: 'hs-merge', primary: pick(['person', 'partner'] as const), await: [] },
        { kind: 'hs-mql' },
      ];
    // A rep finds a duplicate of the Lead, merges the two, and works the survivor.
    case 'sf-merge':
      return [
        ...handoff,
        { kind: 'sf-create-duplicate' },
        { kind: 'sf-merge', master: pick(['duplicate', 'lead'] as const) },
        { kind: 'sf-accept' },
      ];
    case 'hs-email-early':
      return [create, { kind: 'hs-edit-email', afterLead: false }, { kind: 'hs-mql' }];
    // The email changes in HubSpot once the Lead exists; the rep then works the Lead.
    case 'hs-email-late':
      return [...handoff, { kind: 'hs-edit-email', afterLead: true }, { kind: 'sf-accept' }];
    case 'sf-email':
      return [...handoff, { kind: 'sf-edit-email' }];
    // The rep records the opt-out; the marketer's later edit syncs the contact again and must not undo it.
    case 'sf-optout':
      return [...handoff, { kind: 'sf-optout' }, { kind: 'hs-edit-phone' }];
    case 'hs-optout':
      return [...handoff, { kind: 'hs-optout' }, { kind: 'sf-accept' }];
  }
}

function expectedOf(kind: JourneyKind, phone: string, email: string, newEmail: string): Expected {
  const open = { Status: 'Open - Not Contacted', IsConverted: false };
  const working = { Status: 'Working - Contacted', IsConverted: false };
  const accepted = { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS', sales_feedback_status: 'accepted' };
  const converted = { Status: 'Closed - Converted', IsConverted: true };
  switch (kind) {
    case 'lead':
      return { hubspot: { lifecyclestage: 'lead' }, lead: null };
    case 'mql':
      return { hubspot: { lifecyclestage: 'marketingqualifiedlead', sales_feedback_status: null }, lead: open };
    case 'edit-mql':
      return { hubspot: { lifecyclestage: 'marketingqualifiedlead', phone }, lead: { ...open, Phone: phone } };
    case 'accept':
      return {
        hubspot: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS', sales_feedback_status: 'accepted' },
        lead: { Status: 'Working - Contacted', IsConverted: false },
      };
    case 'reject':
      return {
        hubspot: { lifecyclestage: 'marketingqualifiedlead', hs_lead_status: 'UNQUALIFIED', sales_feedback_status: 'rejected' },
        lead: { Status: 'Closed - Not Converted', IsConverted: false },
      };
    case 'recycle':
      return {
        hubspot: { lifecyclestage: 'lead', hs_lead_status: 'NEW', sales_feedback_status: 'recycled' },
        lead: { Status: 'Closed - Not Converted', IsConverted: false },
      };
    case 'convert':
      return { hubspot: { lifecyclestage: 'opportunity', sales_feedback_status: 'opportunity' }, lead: converted, opportunity: 'open' };
    case 'win':
      return { hubspot: { lifecyclestage: 'customer', sales_feedback_status: 'won' }, lead: converted, opportunity: 'won' };
    case 'lose':
      return { hubspot: { lifecyclestage: 'opportunity', sales_feedback_status: 'lost' }, lead: converted, opportunity: 'lost' };
    // A Lead that sales created and has not worked maps to no HubSpot stage: the contact gets none.
    case 'sf-open':
      return { hubspot: { lifecyclestage: null, sales_feedback_status: null }, lead: open };
    case 'sf-accept':
      return {
        hubspot: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS', sales_feedback_status: 'accepted' },
        lead: { Status: 'Working - Contacted', IsConverted: false },
      };
    case 'sf-win':
      return { hubspot: { lifecyclestage: 'customer', sales_feedback_status: 'won' }, lead: converted, opportunity: 'won' };
    case 'collision':
      return { hubspot: { lifecyclestage: 'marketingqualifiedlead' }, lead: open };
    // The merged contact keeps the stage furthest down the funnel and the primary's Lead (or the one Lead there is).
    case 'hs-merge-both':
      return { hubspot: { lifecyclestage: 'marketingqualifiedlead' }, lead: open, merge: { unlinkedLead: true } };
    case 'hs-merge-one':
      return { hubspot: { lifecyclestage: 'marketingqualifiedlead' }, lead: open, merge: { unlinkedLead: false } };
    case 'hs-merge-none':
      return { hubspot: { lifecyclestage: 'marketingqualifiedlead' }, lead: open, merge: { unlinkedLead: false } };
    case 'sf-merge':
      return { hubspot: accepted, lead: { ...working, Email: email }, leadMerge: true };
    // Before the handoff, the Lead is made with the new email.
    case 'hs-email-early':
      return { hubspot: { lifecyclestage: 'marketingqualifiedlead', email: newEmail }, lead: { ...open, Email: newEmail } };
    // Email maps prefer_salesforce_unless_blank: the Lead keeps its email, and its next sync brings it back to the contact.
    case 'hs-email-late':
      return { hubspot: { ...accepted, email }, lead: { ...working, Email: email } };
    case 'sf-email':
      return { hubspot: { lifecyclestage: 'marketingqualifiedlead', email: newEmail }, lead: { ...open, Email: newEmail } };
    case 'sf-optout':
      return { hubspot: { lifecyclestage: 'marketingqualifiedlead', phone }, lead: { ...open, Phone: phone }, optedOut: true };
    case 'hs-optout':
      return { hubspot: accepted, lead: working, optedOut: true };
  }
}

export interface WorkloadShape {
  journeys: number;
  /** Journey starts are spread over this long. */
  spreadMs: number;
  /** Pause between two steps of one journey. */
  stepGapMs: { min: number; max: number };
  reps: number;
  runId: string;
}

/** Draws the journeys of a run. */
export function planJourneys(seed: number, shape: WorkloadShape): Journey[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const gap = () => shape.stepGapMs.min + Math.floor(random() * (shape.stepGapMs.max - shape.stepGapMs.min + 1));
  const weight = (kind: JourneyKind): number => WEIGHTS[kind];
  const total = JOURNEY_KINDS.reduce((sum, kind) => sum + weight(kind), 0);
  const drawKind = (): JourneyKind => {
    let roll = random() * total;
    for (const kind of JOURNEY_KINDS) {
      roll -= weight(kind);
      if (roll < 0) return kind;
    }
    return 'mql';
  };
  return Array.from({ length: shape.journeys }, (_, index) => {
    const kind = drawKind();
    const phone = `+1 555 ${String(1000 + (index % 9000)).padStart(4, '0')}`;
    const steps = stepsOf(kind, pick, 1_000 * (5 + Math.floor(random() * 95)));
    const start = Math.floor((index / shape.journeys) * shape.spreadMs + random() * 200);
    const email = `j${index}-${shape.runId}@chaos.example.com`;
    const newEmail = `j${index}-moved-${shape.runId}@chaos.example.com`;
    const firstname = pick(FIRST);
    const lastname = `${pick(LAST)} ${index}`;
    const company = pick(COMPANY);
    const merges = steps.some((s) => s.kind === 'hs-merge');
    return {
      index,
      kind,
      email,
      firstname,
      lastname,
      company,
      phone,
      newEmail,
      // The same person signed up again with another address.
      ...(merges ? { partner: { email: `j${index}-again-${shape.runId}@chaos.example.com`, firstname, lastname, company } } : {}),
      rep: Math.floor(random() * shape.reps),
      steps: steps.map((step, i) => ({ step, delayMs: i === 0 ? start : gap() })),
      expected: expectedOf(kind, phone, email, newEmail),
      state: { next: 0, dueAt: start, done: false },
    };
  });
}
