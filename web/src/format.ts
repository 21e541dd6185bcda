/**
 * Numbers for people: thousands separators, dates, money from integer minor units. Amounts stay
 * integers everywhere else; only these functions turn them into text.
 */

const LOCALE = undefined; // the browser's own

const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const date = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium' });
const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });

export function formatCredits(credits: number): string {
  return `${integer.format(credits)} ${credits === 1 ? 'credit' : 'credits'}`;
}

export function formatNumber(n: number): string {
  return integer.format(n);
}

/** Epoch milliseconds as a date; null as "never". */
export function formatDate(ms: number | null): string {
  return ms === null ? 'never' : date.format(ms);
}

export function formatDateTime(ms: number): string {
  return dateTime.format(ms);
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

/** Integer cents (minor units) in the catalog's currency, e.g. 1999 usd -> $19.99. */
export function formatMoney(cents: number, currency: string, fractionDigits = 2): string {
  const key = `${currency}/${fractionDigits}`;
  let f = moneyFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(LOCALE, {
      style: 'currency',
      currency: currency.toUpperCase(),
      minimumFractionDigits: fractionDigits,
      maximumFractionDigits: fractionDigits,
    });
    moneyFormats.set(key, f);
  }
  // Division only for display: the amount itself stays integer cents.
  return f.format(cents / 100);
}

/** A price per credit to a tenth of a cent: 999 cents for 20 credits -> $0.500. */
export function formatPricePerCredit(priceCents: number, credits: number, currency: string) {
  const tenthsOfCent = Math.floor((priceCents * 10 + Math.floor(credits / 2)) / credits);
  return formatMoney(tenthsOfCent / 10, currency, 3);
}

/** Hundredths of a percent (5185) as 51.85%. */
export function formatBasisPoints(bp: number): string {
  return `${(bp / 100).toLocaleString(LOCALE, { maximumFractionDigits: 2 })}%`;
}

const utcDay = new Intl.DateTimeFormat(LOCALE, { month: 'short', day: 'numeric', timeZone: 'UTC' });

/** A UTC day (daily usage counts UTC days) as "Mar 3". */
export function formatUtcDay(ms: number): string {
  return utcDay.format(ms);
}
