/**
 * What the settings check knows of the installation's live CRMs: the org's describe of Lead and
 * Opportunity as the integration user sees them, and the portal's contact properties, read
 * through the ports; the checks themselves are the domain's (domain/settings-check.ts).
 */
import {
  CHECKED_SALESFORCE_OBJECTS,
  type CrmFacts,
  type HubSpotPropertyFacts,
  type SalesforceFieldFacts,
} from '../../domain/settings-check.ts';
import type { InstallationRuntime } from '../../runtime/installation-clients.ts';

/** What both CRMs say about the objects, fields, properties and values the rules name. */
export async function readCrmFacts(runtime: Pick<InstallationRuntime, 'hubspot' | 'salesforce'>): Promise<CrmFacts> {
  const [described, properties] = await Promise.all([
    Promise.all(CHECKED_SALESFORCE_OBJECTS.map(async (object) => [object, await runtime.salesforce.describeFields(object)] as const)),
    runtime.hubspot.readContactProperties(),
  ]);
  const salesforce = new Map<string, Map<string, SalesforceFieldFacts>>();
  for (const [object, fields] of described) {
    if (fields)
      salesforce.set(
        object,
        new Map(
          fields.map((field) => [
            field.name,
            { label: field.label, type: field.type, length: field.length, writable: field.writable, picklistValues: field.picklistValues },
          ]),
        ),
      );
  }
  const hubspot = new Map<string, HubSpotPropertyFacts>(
    properties.map((property) => [
      property.name,
      { label: property.label, type: property.type, fieldType: property.fieldType, readOnly: property.readOnly, options: property.options },
    ]),
  );
  return { salesforce, hubspot };
}
