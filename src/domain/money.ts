/**
 * Money as integer cents: CRM amounts arrive as decimals (Salesforce `Amount` is a JSON number),
 * and every sum the app reports must add up to the cent.
 */

/** Converts a decimal amount to integer cents, rounding half away from zero on the decimal digits. */
export function toCents(amount: number | string): number {
  const text = (typeof amount === 'number' ? String(amount) : amount).trim();
  const decimal = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (decimal === null || (decimal[2] === '' && (decimal[3] ?? '') === '')) {
    // Exponent notation (1e-7, 1e+21): plain float rounding is as exact as the input.
    const value = Number(text);
    const cents = Math.round(value * 100);
    if (text === '' || !Number.isSafeInteger(cents)) throw new RangeError(`not an amount in range: ${text}`);
    return cents === 0 ? 0 : cents;
  }
  const negative = decimal[1] === '-';
  const whole = decimal[2] === '' ? '0' : (decimal[2] ?? '0');
  const fraction = (decimal[3] ?? '').padEnd(3, '0');
  let cents = BigInt(whole) * 100n + BigInt(fraction.slice(0, 2));
  if (Number(fraction[2]) >= 5) cents += 1n;
  const result = Number(negative ? -cents : cents);
  if (!Number.isSafeInteger(result)) throw new RangeError(`amount out of range: ${text}`);
  return result;
}

/** Formats integer cents as a plain decimal string with two places (`123456` → `1234.56`). */
export function formatCents(cents: number): string {
  assertCents(cents);
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}${Math.trunc(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}

/** Throws for a value that is not a safe integer number of cents (a caller bug). */
export function assertCents(cents: number): void {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`amount must be integer cents, got ${cents}`);
}
