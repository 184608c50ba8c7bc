-- The share of the Salesforce org's daily API allowance the app may spend: {"percent": n} or
-- {"calls": n} per rolling 24 h (src/domain/api-budget.ts); NULL: no budget beyond the pacing.
ALTER TABLE installations ADD COLUMN salesforce_api_budget jsonb;
