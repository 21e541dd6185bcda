import { useState, type FormEvent } from 'react';
import type { Catalog, PhasePlan } from '../../../src/client/index.js';
import { BarChart } from '../components/bar-chart.js';
import { ItemFields, newItem, toQuoteItem, type ItemDraft } from '../components/item-fields.js';
import { ActionStatus, Async } from '../components/status.js';
import { formatBasisPoints, formatCredits, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { useAction, useRequest } from '../use-request.js';

/** What things cost before running them: one request, a batch, and the phased workflow. */
export function PlannerPage({ client }: PageProps) {
  const [catalog] = useRequest((signal) => client.catalog.get({ signal }), []);
  return (
    <Async state={catalog} what="the catalog">
      {({ body }) => (
        <div className="grid">
          <QuoteCalculator client={client} catalog={body} />
          <BatchQuote client={client} catalog={body} />
          <PhasedPlanner client={client} catalog={body} />
        </div>
      )}
    </Async>
  );
}

interface Props {
  readonly client: PageProps['client'];
  readonly catalog: Catalog;
}

function QuoteCalculator({ client, catalog }: Props) {
  const [item, setItem] = useState<ItemDraft>(() => newItem(catalog));
  const [state, run] = useAction(() => client.quotes.create({ items: [toQuoteItem(item)] }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run();
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="quote-title">
      <h2 id="quote-title">Quote</h2>
      <div className="fields">
        <ItemFields catalog={catalog} item={item} idPrefix="quote" onChange={setItem} />
      </div>
      <button type="submit">Quote</button>
      <ActionStatus state={state} running="Pricing" />
      {state.status === 'ok' && (
        <p role="status" className="result" data-testid="quote-result">
          {state.data.lines
            .map((l) => `${formatNumber(l.count)} × ${formatCredits(l.unitCredits)}`)
            .join(' + ')}{' '}
          = <strong>{formatCredits(state.data.credits)}</strong>
        </p>
      )}
    </form>
  );
}

function BatchQuote({ client, catalog }: Props) {
  const [items, setItems] = useState<readonly ItemDraft[]>(() => [newItem(catalog)]);
  const [state, run] = useAction(() => client.batches.quote({ items: items.map(toQuoteItem) }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run();
  };
  const set = (i: number, item: ItemDraft) => setItems(items.map((x, j) => (j === i ? item : x)));
  return (
    <form className="card" onSubmit={submit} aria-labelledby="batch-title">
      <h2 id="batch-title">Batch quote</h2>
      <p className="muted small">
        A session's requests priced together, before holding them all at once.
      </p>
      <ol className="batch-items">
        {items.map((item, i) => (
          <li key={i} className="fields">
            <ItemFields
              catalog={catalog}
              item={item}
              idPrefix={`batch-${i}`}
              onChange={(x) => set(i, x)}
            />
            {items.length > 1 && (
              <button
                type="button"
                className="secondary"
                onClick={() => setItems(items.filter((_, j) => j !== i))}
              >
                Remove item {i + 1}
              </button>
            )}
          </li>
        ))}
      </ol>
      <div className="row">
        <button
          type="button"
          className="secondary"
          onClick={() => setItems([...items, newItem(catalog)])}
        >
          Add an item
        </button>
        <button type="submit">Quote the batch</button>
      </div>
      <ActionStatus state={state} running="Pricing" />
      {state.status === 'ok' && (
        <div role="status">
          <ul className="plain">
            {state.data.items.map((it) => (
              <li key={it.index}>
                Item {it.index + 1}: {formatNumber(it.count)} × {it.operation}{' '}
                {Object.values(it.params).join(' ')} = {formatCredits(it.credits)}
              </li>
            ))}
          </ul>
          <p className="result" data-testid="batch-result">
            Total <strong>{formatCredits(state.data.credits)}</strong>
          </p>
        </div>
      )}
    </form>
  );
}

function resolutionsOf(catalog: Catalog): readonly string[] {
  return (
    catalog.operations['image.generate']?.params['resolution']?.values ?? [
      '720p',
      '1080p',
      '4k',
      '8k',
    ]
  );
}

function PhasedPlanner({ client, catalog }: Props) {
  const resolutions = resolutionsOf(catalog);
  const [finals, setFinals] = useState('10');
  const [resolution, setResolution] = useState(
    resolutions[resolutions.length - 2] ?? resolutions[0]!,
  );
  const [state, run] = useAction(() =>
    client.insights.phases({ finals: Number(finals), resolution }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run();
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="phases-title">
      <h2 id="phases-title">Phased planner</h2>
      <p className="muted small">
        Explore at 720p, refine at 1080p, and make only the finals at full resolution.
      </p>
      <div className="fields">
        <div>
          <label htmlFor="phases-finals">Final images</label>
          <input
            id="phases-finals"
            type="number"
            inputMode="numeric"
            min={1}
            step={1}
            required
            value={finals}
            onChange={(e) => setFinals(e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="phases-resolution">Final resolution</label>
          <select
            id="phases-resolution"
            value={resolution}
            onChange={(e) => setResolution(e.target.value)}
          >
            {resolutions.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
      </div>
      <button type="submit">Plan</button>
      <ActionStatus state={state} running="Planning" />
      {state.status === 'ok' && <PhaseResult plan={state.data} />}
    </form>
  );
}

function PhaseResult({ plan }: { readonly plan: PhasePlan }) {
  return (
    <div role="status">
      <ul className="plain">
        {plan.phases.map((p) => (
          <li key={p.phase}>
            {p.phase}: {formatNumber(p.images)} images at {p.resolution} ={' '}
            {formatCredits(p.credits)}
          </li>
        ))}
      </ul>
      <p className="result" data-testid="phases-result">
        {formatCredits(plan.phasedCredits)} instead of {formatCredits(plan.allAtFinalCredits)}:{' '}
        <strong>{formatCredits(plan.savingCredits)} saved</strong> (
        {formatBasisPoints(plan.savingBasisPoints)})
      </p>
      <BarChart
        title="Phased against all at the final resolution"
        unit="credits"
        bars={[
          { label: 'Phased', value: plan.phasedCredits },
          { label: `All at ${plan.resolution}`, value: plan.allAtFinalCredits },
        ]}
      />
    </div>
  );
}
