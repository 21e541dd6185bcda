import type { Catalog, QuoteItem } from '../../../src/client/index.js';

/** One request of a quote: an operation of the catalog, its parameters, and a count. */

export interface ItemDraft {
  readonly operation: string;
  readonly params: Readonly<Record<string, string>>;
  readonly count: string;
}

export function newItem(catalog: Catalog): ItemDraft {
  const [operation] = Object.keys(catalog.operations);
  return withOperation(catalog, operation ?? '');
}

/** The operation with each parameter at its default (or first value). */
export function withOperation(catalog: Catalog, operation: string): ItemDraft {
  const params: Record<string, string> = {};
  for (const [name, p] of Object.entries(catalog.operations[operation]?.params ?? {})) {
    params[name] = p.default ?? p.values[0]!;
  }
  return { operation, params, count: '1' };
}

/** Counts go to the API as typed: it names what is wrong with them. */
export function toQuoteItem(draft: ItemDraft): QuoteItem {
  return { operation: draft.operation, params: { ...draft.params }, count: Number(draft.count) };
}

export function ItemFields(props: {
  readonly catalog: Catalog;
  readonly item: ItemDraft;
  /** Makes the inputs' ids unique on the page. */
  readonly idPrefix: string;
  readonly onChange: (item: ItemDraft) => void;
}) {
  const { catalog, item, idPrefix, onChange } = props;
  const op = catalog.operations[item.operation];
  return (
    <>
      <div>
        <label htmlFor={`${idPrefix}-operation`}>Operation</label>
        <select
          id={`${idPrefix}-operation`}
          value={item.operation}
          onChange={(e) => onChange(withOperation(catalog, e.target.value))}
        >
          {Object.keys(catalog.operations).map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      {Object.entries(op?.params ?? {}).map(([name, p]) => (
        <div key={name}>
          <label htmlFor={`${idPrefix}-${name}`}>{p.description ?? name}</label>
          <select
            id={`${idPrefix}-${name}`}
            value={item.params[name]}
            onChange={(e) =>
              onChange({ ...item, params: { ...item.params, [name]: e.target.value } })
            }
          >
            {p.values.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </div>
      ))}
      <div>
        <label htmlFor={`${idPrefix}-count`}>Count ({op?.unit ?? 'units'})</label>
        <input
          id={`${idPrefix}-count`}
          type="number"
          inputMode="numeric"
          min={1}
          step={1}
          required
          value={item.count}
          onChange={(e) => onChange({ ...item, count: e.target.value })}
        />
      </div>
    </>
  );
}
