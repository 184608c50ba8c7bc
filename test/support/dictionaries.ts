/** Stage dictionaries the tests vary from the default, each built as data and validated like an admin's. */
import { DEFAULT_STAGE_DICTIONARY, validateStageDictionary, type StageDictionary } from '../../src/domain/stages.ts';

/** The default dictionary with a recycled rule for Opportunities lost for these reasons (an admin's addition). */
export function recyclingLostOpportunities(reasons: readonly string[]): StageDictionary {
  const result = validateStageDictionary({
    ...DEFAULT_STAGE_DICTIONARY,
    rows: [
      ...DEFAULT_STAGE_DICTIONARY.rows,
      {
        stage: 'recycled',
        direction: 'salesforce_to_hubspot',
        hubspot: { lifecyclestage: 'lead', hs_lead_status: 'NEW' },
        salesforce: { object: 'Opportunity', state: 'lost', reasons: [...reasons] },
      },
    ],
  });
  if (!result.ok) throw new Error(result.error.join('\n'));
  return result.value;
}
