/**
 * Currencies of the sandbox org. A fresh org uses one currency; multi-currency (an org setting,
 * sandbox control) adds the CurrencyType rows and the CurrencyIsoCode fields (currency-objects.ts).
 * ConversionRate is "Conversion rate of this currency type against the corporate currency"
 * (CurrencyType object reference): an amount of `rate` units of the currency is worth one unit of
 * the corporate currency.
 */
import type { SfRecord } from './types.ts';

/** Where the org's rates live: its CurrencyType rows. */
export interface RateSource {
  table(type: string): Record<string, SfRecord>;
}

/** The rate of an ISO code among the org's CurrencyType rows (active or not); undefined when the org has none. */
export function conversionRate(source: RateSource, isoCode: string): number | undefined {
  const row = Object.values(source.table('CurrencyType')).find((r) => r.IsoCode === isoCode);
  return typeof row?.ConversionRate === 'number' ? row.ConversionRate : undefined;
}

/** Converts an amount between two of the org's currencies through the corporate currency; unchanged when either side is unknown. */
export function convertAmount(source: RateSource, amount: number, from: string | null, to: string | null): number {
  if (from === null || to === null || from === to) return amount;
  const fromRate = conversionRate(source, from);
  const toRate = conversionRate(source, to);
  if (fromRate === undefined || toRate === undefined || fromRate === 0) return amount;
  return (amount / fromRate) * toRate;
}
