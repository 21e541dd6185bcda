import { own, type Catalog } from './catalog.js';
import { AmisiError, type ErrorCode } from './errors.js';
import { quote } from './quote.js';

/**
 * Resolution guidance: the intended use of an image picks its resolution (the seed's table),
 * and the active catalog prices it. Nothing here hard-codes credits: a catalog that changes
 * the price of 4K changes the guidance, and one without 8K says so on the rows that need it.
 */

/** The operation whose resolution table prices images (catalog/default.json). */
export const IMAGE_OPERATION = 'image.generate';
export const RESOLUTION_PARAM = 'resolution';

export interface IntendedUse {
  /** Stable id, used by the CLI, the API and outcome labels. */
  readonly use: string;
  readonly description: string;
  /** Other names accepted for it (after lower-casing; spaces and underscores read as "-"). */
  readonly aliases: readonly string[];
  readonly resolution: string;
}

/** The seed's "Resolution Selection Guidelines", one row per use it names. */
export const INTENDED_USES: readonly IntendedUse[] = [
  {
    use: 'thumbnail',
    description: 'Web thumbnails',
    aliases: ['thumbnails', 'thumb', 'web-thumbnail'],
    resolution: '720p',
  },
  {
    use: 'small-web',
    description: 'Small web images',
    aliases: ['small', 'small-image', 'small-images'],
    resolution: '720p',
  },
  {
    use: 'web',
    description: 'Standard website images',
    aliases: ['website', 'standard-web', 'web-image'],
    resolution: '1080p',
  },
  {
    use: 'social',
    description: 'Social media',
    aliases: ['social-media'],
    resolution: '1080p',
  },
  {
    use: 'header',
    description: 'Large website headers',
    aliases: ['headers', 'web-header', 'hero', 'banner'],
    resolution: '4k',
  },
  {
    use: 'print',
    description: 'Print materials',
    aliases: ['print-materials', 'printing'],
    resolution: '4k',
  },
  {
    use: 'large-format',
    description: 'Large-format printing',
    aliases: ['large-format-print', 'large-print', 'poster'],
    resolution: '8k',
  },
  {
    use: 'editing',
    description: 'Detailed editing',
    aliases: ['detailed-editing'],
    resolution: '8k',
  },
];

export interface Guideline extends IntendedUse {
  /** Credits per image at that resolution in the catalog; null when the catalog has none. */
  readonly credits: number | null;
  /** Why credits is null, for people; null otherwise. */
  readonly note: string | null;
}

export interface ResolutionPrice {
  /** As the catalog spells it. */
  readonly resolution: string;
  readonly credits: number;
}

/**
 * Credits per image for each resolution the catalog offers for image.generate, priced by the
 * catalog's own rule (quote), in the catalog's order. Empty when it takes no resolution.
 */
export function imageResolutionPrices(catalog: Catalog): ResolutionPrice[] {
  const op = own(catalog.operations, IMAGE_OPERATION);
  if (!op) {
    throw new AmisiError(
      'unknown_operation',
      `catalog ${catalog.version} has no ${IMAGE_OPERATION} operation to price images with`,
      { operation: IMAGE_OPERATION, allowed: Object.keys(catalog.operations) },
    );
  }
  const param = own(op.params, RESOLUTION_PARAM);
  return (param?.values ?? []).map((resolution) => ({
    resolution,
    credits: quote(catalog, [{ operation: IMAGE_OPERATION, params: { resolution } }]).credits,
  }));
}

/** The catalog's price for a resolution, matched without regard to case ("4K" is "4k"). */
export function findResolution(
  prices: readonly ResolutionPrice[],
  resolution: string,
): ResolutionPrice | undefined {
  const wanted = resolution.toLowerCase();
  return prices.find((p) => p.resolution.toLowerCase() === wanted);
}

export function missingResolution(catalog: Catalog, prices: readonly ResolutionPrice[], r: string) {
  const offered = prices.map((p) => p.resolution).join(', ') || 'none';
  return `catalog ${catalog.version} has no ${r} price for ${IMAGE_OPERATION} (its resolutions: ${offered})`;
}

function normalize(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');
}

/** The intended use named by an id or an alias; invalid_argument lists the allowed ids. */
export function findUse(text: string): IntendedUse {
  const key = normalize(text);
  const found = INTENDED_USES.find((u) => u.use === key || u.aliases.includes(key));
  if (!found) {
    const allowed = INTENDED_USES.map((u) => u.use);
    throw new AmisiError(
      'invalid_argument',
      `unknown intended use "${text}": use one of ${allowed.join(', ')}`,
      { field: 'use', value: text, allowed },
    );
  }
  return found;
}

function priced(catalog: Catalog, prices: readonly ResolutionPrice[], use: IntendedUse) {
  const price = findResolution(prices, use.resolution);
  const guideline: Guideline = {
    ...use,
    resolution: price?.resolution ?? use.resolution,
    credits: price?.credits ?? null,
    note: price ? null : missingResolution(catalog, prices, use.resolution),
  };
  return guideline;
}

/** The guideline for one intended use (an id or an alias), priced by the catalog. */
/** The problem codes of `guideline` (a catalog without image prices, an unknown use). */
export const GUIDELINE_PROBLEMS: readonly ErrorCode[] = ['unknown_operation', 'invalid_argument'];

export function guideline(catalog: Catalog, use: string): Guideline {
  const found = findUse(use);
  return priced(catalog, imageResolutionPrices(catalog), found);
}

/** Every intended use, in the seed's order, priced by the catalog. */
export function guidelines(catalog: Catalog): Guideline[] {
  const prices = imageResolutionPrices(catalog);
  return INTENDED_USES.map((u) => priced(catalog, prices, u));
}
