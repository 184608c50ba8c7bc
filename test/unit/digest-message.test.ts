import { describe, expect, it } from 'vitest';
import { formatMoney, renderDigest } from '../../src/domain/digest-message.ts';
import { FIXTURE_FIGURES, reviewFixture } from '../support/review-fixture.ts';

const URL = 'https://sync.example.com/admin/review?installation=acme&period=2026-Q4';

describe('digest messages', () => {
  const message = renderDigest(reviewFixture('acme'), { installationName: 'Acme <EU>', reviewUrl: URL });

  it('names the period and the installation in the subject', () => {
    expect(message.subject).toBe('Pipeline review 2026-Q4 — Acme <EU>');
    expect(renderDigest(reviewFixture('acme'), { installationName: 'Acme', reviewUrl: URL, test: true }).subject).toBe(
      '[Test] Pipeline review 2026-Q4 — Acme',
    );
  });

  it('writes every block of the review with its numbers in the text body', () => {
    for (const figure of FIXTURE_FIGURES.email) expect(message.text).toContain(figure);
    expect(message.text).toContain(`Open the review: ${URL}`);
  });

  it('writes the same numbers in the HTML body, escaping names', () => {
    for (const figure of FIXTURE_FIGURES.email) expect(message.html).toContain(figure.replaceAll('&', '&amp;'));
    expect(message.html).toContain('Globex &amp; Sons');
    expect(message.html).toContain('Acme &lt;EU&gt;');
    expect(message.html).not.toContain('<EU>');
    expect(message.html).toContain(`href="${URL.replaceAll('&', '&amp;')}"`);
  });

  it('keeps the chat text short, with the headline numbers and the link', () => {
    for (const figure of FIXTURE_FIGURES.chat) expect(message.chat).toContain(figure);
    expect(message.chat.split('\n')).toHaveLength(8);
    expect(message.chat).toContain(`<${URL}|Open the review>`);
    expect(message.chat).toContain('Acme &lt;EU&gt;');
  });

  it('formats cents in the currency, and as a plain amount without one', () => {
    expect(formatMoney(123_456_78, 'EUR')).toBe('€123,456.78');
    expect(formatMoney(1_234_500, 'JPY')).toBe('¥12,345');
    expect(formatMoney(123_456_78, null)).toBe('123,456.78');
  });
});
