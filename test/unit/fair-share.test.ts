import { describe, expect, it } from 'vitest';
import { burstPriority, FAIR_SHARE_EVENTS } from '../../src/queue/fair-share.ts';

describe('fair-share priority of an installation burst', () => {
  it('keeps events within the share in line with everyone and puts each further share one step behind', () => {
    expect(burstPriority(1)).toBe(0);
    expect(burstPriority(FAIR_SHARE_EVENTS)).toBe(0);
    expect(burstPriority(FAIR_SHARE_EVENTS + 1)).toBe(1);
    expect(burstPriority(2 * FAIR_SHARE_EVENTS)).toBe(1);
    expect(burstPriority(2 * FAIR_SHARE_EVENTS + 1)).toBe(2);
    // A hundred shares in one window: the hundredth waits behind the first 99.
    expect(burstPriority(100 * FAIR_SHARE_EVENTS)).toBe(99);
  });

  it('never goes past the lowest priority BullMQ accepts', () => {
    expect(burstPriority(Number.MAX_SAFE_INTEGER)).toBe(2 ** 21 - 1);
  });
});
