import { parseCatalog } from '../../core/catalog.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { AmisiError, assert } from '../../core/errors.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { CatalogRecord } from '../store.js';
import type { Replayable } from '../idempotency.js';

/** Catalog commands: loading a version (idempotent by its digest) and activating one. */

export async function loadCatalog(
  uow: UnitOfWork,
  body: unknown,
  digestOf: (text: string) => string,
): Promise<Replayable<{ catalog: CatalogRecord }>> {
  const catalog = parseCatalog(body);
  const digest = digestOf(canonicalJson(catalog));
  const refuse = () =>
    new AmisiError(
      'catalog_version_exists',
      `catalog version "${catalog.version}" is loaded with other content`,
      { version: catalog.version },
    );
  let existing = await uow.read.get('catalogs', { version: catalog.version });
  if (existing && existing.digest !== digest) throw refuse();
  if (!existing) {
    const record = {
      version: catalog.version,
      body: catalog,
      digest,
      loadedAt: uow.now,
      activatedAt: uow.now,
    };
    if (await uow.putCatalog(record)) {
      uow.forgetCatalog();
      return { catalog: record, replay: false };
    }
    // Loaded by another process since we looked.
    existing = await uow.read.get('catalogs', { version: catalog.version });
    assert(existing, `catalog ${catalog.version} exists after a conflicting insert`);
    if (existing.digest !== digest) throw refuse();
  }
  // The same content again is a replay and changes nothing, not even which version is active:
  // a retried deploy must not bring old prices back (activation is its own command).
  return { catalog: existing, replay: true };
}

/** Makes a loaded version the active one (for rolling back prices, say). */
export async function activateCatalog(
  uow: UnitOfWork,
  version: string,
): Promise<{ catalog: CatalogRecord }> {
  const existing = await uow.read.get('catalogs', { version: version });
  if (!existing) {
    throw new AmisiError('unknown_catalog', `no catalog version "${version}" is loaded`, {
      version,
    });
  }
  await uow.activateCatalog(version);
  uow.forgetCatalog();
  return { catalog: { ...existing, activatedAt: uow.now } };
}
