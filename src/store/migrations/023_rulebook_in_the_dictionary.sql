-- What each Lead Status, outcome lifecycle stage and recycle reason means is the stage dictionary's
-- alone: the feedback taxonomy keeps its reasons and fallback code, the SLA policy its clocks. The
-- keys that restated those meanings are removed from stored settings, which would otherwise no
-- longer validate (and fall back to the defaults).
UPDATE installations
SET settings = jsonb_set(
  settings,
  '{feedbackTaxonomy}',
  (settings -> 'feedbackTaxonomy') - 'leadStatuses' - 'hubspot' - 'recycleRejectedReasons' - 'recycleLostReasons'
)
WHERE jsonb_typeof(settings -> 'feedbackTaxonomy') = 'object';

UPDATE installations
SET settings = jsonb_set(settings, '{slaPolicy}', (settings -> 'slaPolicy') - 'untouchedLeadStatuses')
WHERE jsonb_typeof(settings -> 'slaPolicy') = 'object';
