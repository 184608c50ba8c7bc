/**
 * Attribution's URL reading (docs/architecture.md §3): the `utm_*` parameters and ad click ids of a
 * landing URL, and the page it lands on. Never throws on a malformed URL.
 */
import { presentOrNull } from './validation.ts';

/** Click-id parameters that identify an ad network when UTMs are missing, in priority order. */
export const CLICK_ID_SOURCES: Readonly<Record<string, { readonly source: string; readonly medium: string | null }>> = {
  gclid: { source: 'google', medium: 'cpc' },
  gbraid: { source: 'google', medium: 'cpc' },
  wbraid: { source: 'google', medium: 'cpc' },
  dclid: { source: 'google', medium: 'display' },
  msclkid: { source: 'bing', medium: 'cpc' },
  li_fat_id: { source: 'linkedin', medium: 'paid' },
  ttclid: { source: 'tiktok', medium: 'paid' },
  twclid: { source: 'twitter', medium: 'paid' },
  // Facebook adds fbclid to organic shares too, so it names the network but not the medium.
  fbclid: { source: 'facebook', medium: null },
  // HubSpot marketing emails tag their links with _hsenc.
  _hsenc: { source: 'hubspot', medium: 'email' },
};

/** The campaign parameters of a URL; absent or blank values are null. */
export interface UtmParameters {
  readonly source: string | null;
  readonly medium: string | null;
  readonly campaign: string | null;
  readonly content: string | null;
  readonly term: string | null;
  readonly id: string | null;
  /** The first ad click id found (see CLICK_ID_SOURCES), or null. */
  readonly clickId: string | null;
}

const EMPTY_UTM: UtmParameters = { source: null, medium: null, campaign: null, content: null, term: null, id: null, clickId: null };

/**
 * Reads `utm_*` parameters (and ad click ids) from a URL, never throwing: keys are
 * case-insensitive, `+` is a space, bad percent-escapes are kept as written, the first non-blank
 * value of a key wins, query parameters win over ones after `#`, and relative or scheme-less
 * URLs work.
 */
export function parseUtm(url: string | null | undefined): UtmParameters {
  if (url === null || url === undefined) return EMPTY_UTM;
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt === -1 ? url : url.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : url.slice(hashAt + 1);
  const queryAt = beforeHash.indexOf('?');
  const query = queryAt === -1 ? '' : beforeHash.slice(queryAt + 1);
  const fragmentQueryAt = fragment.indexOf('?');
  const fragmentQuery = fragmentQueryAt === -1 ? fragment : fragment.slice(fragmentQueryAt + 1);

  const found = new Map<string, string>();
  for (const part of [query, fragmentQuery]) {
    for (const pair of part.split(/[&;]/)) {
      const equalsAt = pair.indexOf('=');
      if (equalsAt <= 0) continue;
      const key = decodeComponent(pair.slice(0, equalsAt)).trim().toLowerCase();
      const value = decodeComponent(pair.slice(equalsAt + 1)).trim();
      if (key === '' || value === '' || found.has(key)) continue;
      found.set(key, value);
    }
  }
  const clickId = Object.keys(CLICK_ID_SOURCES).find((param) => found.has(param)) ?? null;
  return {
    source: found.get('utm_source') ?? null,
    medium: found.get('utm_medium') ?? null,
    campaign: found.get('utm_campaign') ?? null,
    content: found.get('utm_content') ?? null,
    term: found.get('utm_term') ?? null,
    id: found.get('utm_id') ?? null,
    clickId,
  };
}

function decodeComponent(raw: string): string {
  const spaced = raw.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Decode the well-formed runs and keep the broken escapes as written.
    return spaced.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** The page a URL points at, without query or fragment; null for a blank URL. */
export function landingPageOf(url: string | null | undefined): string | null {
  const present = presentOrNull(url);
  if (present === null) return null;
  const end = present.search(/[?#]/);
  const page = end === -1 ? present : present.slice(0, end);
  return page === '' ? null : page;
}
