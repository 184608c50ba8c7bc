/**
 * The scripted workload: lead journeys drawn from a seeded PRNG, each a list of steps a marketer
 * (HubSpot UI) or a sales rep (their own Salesforce session) takes, and the final state both CRMs
 * must show once the app has caught up.
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

export const JOURNEY_KINDS = ['lead', 'mql', 'edit-mql', 'accept', 'reject', 'recycle', 'convert', 'win', 'lose', 'sf-open', 'sf-accept', 'sf-win', 'collision'] as const;
export type JourneyKind = (typeof JOURNEY_KINDS)[number];

/** How often each kind is drawn (relative weights). */
const WEIGHTS: Record<JourneyKind, number> = {
  lead: 6, mql: 8, 'edit-mql': 6, accept: 12, reject: 8, recycle: 6, convert: 10, win: 12, lose: 8, 'sf-open': 5, 'sf-accept': 6, 'sf-win': 5, collision: 5,
};

/** Reasons a rep gives: some recycle the lead to nurture (the default taxonomy: bad timing, no budget). */
const REJECT_REASONS = ['No need', 'No authority', 'Competitor', 'Wrong contact data', 'Duplicate', 'Other'] as const;
const RECYCLE_REASONS = ['Bad timing', 'No budget'] as const;
const LOSS_REASONS = ['Competitor', 'No budget', 'No need', 'Bad timing', 'Other'] as const;

export type Step =
  | { kind: 'hs-create'; withPhone: boolean }
  | { kind: 'hs-mql' }
  | { kind: 'hs-edit-phone' }
  | { kind: 'sf-create' }
  | { kind: 'sf-accept' }
  | { kind: 'sf-reject'; reason: string }
  | { kind: 'sf-convert' }
  | { kind: 'sf-win'; amount: number }
  | { kind: 'sf-lose'; reason: string };

/** The state a journey must end in. `undefined` in a HubSpot field: not checked (timing decides it). */
export interface Expected {
  hubspot: { lifecyclestage: string | null; hs_lead_status?: string | null; sales_feedback_status?: string | null; phone?: string };
  /** The journey's Lead, or null when none may exist. */
  lead: null | { Status: string; IsConverted: boolean; Phone?: string };
  opportunity?: 'open' | 'won' | 'lost';
}

export interface Journey {
  index: number;
  kind: JourneyKind;
  email: string;
  firstname: string;
  lastname: string;
  company: string;
  phone: string;
  /** The rep who works the Lead (index into the rep sessions). */
  rep: number;
  steps: { step: Step; delayMs: number }[];
  expected: Expected;
  /** Filled in while the workload runs. */
  state: { next: number; dueAt: number; contactId?: string; leadId?: string; opportunityId?: string; done: boolean };
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Katherine', 'Linus', 'Margaret', 'Edsger', 'Barbara', 'Donald', 'Frances'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Johnson', 'Torvalds', 'Hamilton', 'Dijkstra', 'Liskov', 'Knuth', 'Allen'];
const COMPANY = ['Analytical Engines', 'Compiler Corp', 'Enigma Labs', 'Orbital Math', 'Kernel Works'];

function stepsOf(kind: JourneyKind, pick: <T>(items: readonly T[]) => T, amount: number): Step[] {
  const create: Step = { kind: 'hs-create', withPhone: kind !== 'edit-mql' };
  const handoff: Step[] = [create, { kind: 'hs-mql' }];
  const converted: Step[] = [...handoff, { kind: 'sf-accept' }, { kind: 'sf-convert' }];
  switch (kind) {
    case 'lead': return [create];
    case 'mql': return handoff;
    // The marketer completes the contact, then qualifies it: the Lead carries the new value.
    case 'edit-mql': return [create, { kind: 'hs-edit-phone' }, { kind: 'hs-mql' }];
    case 'accept': return [...handoff, { kind: 'sf-accept' }];
    case 'reject': return [...handoff, { kind: 'sf-reject', reason: pick(REJECT_REASONS) }];
    case 'recycle': return [...handoff, { kind: 'sf-reject', reason: pick(RECYCLE_REASONS) }];
    case 'convert': return converted;
    case 'win': return [...converted, { kind: 'sf-win', amount }];
    case 'lose': return [...converted, { kind: 'sf-lose', reason: pick(LOSS_REASONS) }];
    case 'sf-open': return [{ kind: 'sf-create' }];
    case 'sf-accept': return [{ kind: 'sf-create' }, { kind: 'sf-accept' }];
    case 'sf-win': return [{ kind: 'sf-create' }, { kind: 'sf-accept' }, { kind: 'sf-convert' }, { kind: 'sf-win', amount }];
    case 'collision': return [create, { kind: 'sf-create' }, { kind: 'hs-mql' }];
  }
}

function expectedOf(kind: JourneyKind, phone: string): Expected {
  const open = { Status: 'Open - Not Contacted', IsConverted: false };
  const converted = { Status: 'Closed - Converted', IsConverted: true };
  switch (kind) {
    case 'lead': return { hubspot: { lifecyclestage: 'lead' }, lead: null };
    case 'mql': return { hubspot: { lifecyclestage: 'marketingqualifiedlead', sales_feedback_status: null }, lead: open };
    case 'edit-mql': return { hubspot: { lifecyclestage: 'marketingqualifiedlead', phone }, lead: { ...open, Phone: phone } };
    case 'accept': return { hubspot: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS', sales_feedback_status: 'accepted' }, lead: { Status: 'Working - Contacted', IsConverted: false } };
    case 'reject': return { hubspot: { lifecyclestage: 'marketingqualifiedlead', hs_lead_status: 'UNQUALIFIED', sales_feedback_status: 'rejected' }, lead: { Status: 'Closed - Not Converted', IsConverted: false } };
    case 'recycle': return { hubspot: { lifecyclestage: 'lead', hs_lead_status: 'NEW', sales_feedback_status: 'recycled' }, lead: { Status: 'Closed - Not Converted', IsConverted: false } };
    case 'convert': return { hubspot: { lifecyclestage: 'opportunity', sales_feedback_status: 'opportunity' }, lead: converted, opportunity: 'open' };
    case 'win': return { hubspot: { lifecyclestage: 'customer', sales_feedback_status: 'won' }, lead: converted, opportunity: 'won' };
    case 'lose': return { hubspot: { lifecyclestage: 'opportunity', sales_feedback_status: 'lost' }, lead: converted, opportunity: 'lost' };
    // A Lead that sales created and has not worked maps to no HubSpot stage: the contact gets none.
    case 'sf-open': return { hubspot: { lifecyclestage: null, sales_feedback_status: null }, lead: open };
    case 'sf-accept': return { hubspot: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS', sales_feedback_status: 'accepted' }, lead: { Status: 'Working - Contacted', IsConverted: false } };
    case 'sf-win': return { hubspot: { lifecyclestage: 'customer', sales_feedback_status: 'won' }, lead: converted, opportunity: 'won' };
    case 'collision': return { hubspot: { lifecyclestage: 'marketingqualifiedlead' }, lead: open };
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
  const total = JOURNEY_KINDS.reduce((sum, kind) => sum + WEIGHTS[kind], 0);
  const drawKind = (): JourneyKind => {
    let roll = random() * total;
    for (const kind of JOURNEY_KINDS) {
      roll -= WEIGHTS[kind];
      if (roll < 0) return kind;
    }
    return 'mql';
  };
  return Array.from({ length: shape.journeys }, (_, index) => {
    const kind = drawKind();
    const phone = `+1 555 ${String(1000 + (index % 9000)).padStart(4, '0')}`;
    const steps = stepsOf(kind, pick, 1_000 * (5 + Math.floor(random() * 95)));
    const start = Math.floor((index / shape.journeys) * shape.spreadMs + random() * 200);
    return {
      index,
      kind,
      email: `j${index}-${shape.runId}@chaos.example.com`,
      firstname: pick(FIRST),
      lastname: `${pick(LAST)} ${index}`,
      company: pick(COMPANY),
      phone,
      rep: Math.floor(random() * shape.reps),
      steps: steps.map((step, i) => ({ step, delayMs: i === 0 ? start : gap() })),
      expected: expectedOf(kind, phone),
      state: { next: 0, dueAt: start, done: false },
    };
  });
}
