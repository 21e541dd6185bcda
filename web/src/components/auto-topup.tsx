import { useState } from 'react';
import type { AutoTopup, PackList } from '../../../src/client/index.js';
import { isAmisiApiError } from '../../../src/client/index.js';
import { formatCredits, formatMoney, formatNumber } from '../format.js';
import type { PageProps } from '../page-props.js';
import { useAction, useRequest } from '../use-request.js';
import { ActionForm, SelectField, TextField, wholeOf } from './fields.js';
import { ActionStatus, Async } from './status.js';

type Period = AutoTopup['period'];
const PERIODS: readonly { value: Period; label: string }[] = [
  { value: 'day', label: 'Day' },
  { value: 'week', label: 'Week' },
  { value: 'month', label: 'Month' },
];

/** The rule's fields as typed. */
interface RuleForm {
  readonly pack: string;
  readonly threshold: string;
  readonly max: string;
  readonly period: Period;
}

function ruleText(r: AutoTopup | null): string {
  if (r === null) return 'Off: nothing is bought automatically.';
  return `On: when fewer than ${formatCredits(r.thresholdCredits)} are available, buy ${r.pack}, at most ${formatNumber(r.maxPerPeriod)} a ${r.period} (${formatNumber(r.firedInPeriod)} so far).`;
}

/**
 * The account's auto top-up rule: what it is now, and set or remove it. The fields go to the
 * API as typed, so bad input gets the API's own problem and code. Setting the same rule again
 * changes nothing and removing twice is harmless, so no Idempotency-Key is needed.
 */
export function AutoTopupSection(
  props: Pick<PageProps, 'client' | 'account'> & { readonly packs: PackList },
) {
  const { client, account, packs } = props;
  const [rule, reload] = useRequest(
    (signal) =>
      client.autoTopup.get(account.id, { signal }).catch((e: unknown) => {
        if (isAmisiApiError(e) && e.code === 'not_found') return null;
        throw e;
      }),
    [account.id],
  );
  const [form, setForm] = useState<RuleForm>({
    pack: packs.packs[0]?.id ?? '',
    threshold: '',
    max: '1',
    period: 'month',
  });
  const [done, act] = useAction(async (how: 'save' | 'remove') => {
    let text = 'Removed: nothing is bought automatically any more.';
    if (how === 'save') {
      const r = await client.autoTopup.set(account.id, {
        pack: form.pack,
        thresholdCredits: wholeOf(form.threshold),
        maxPerPeriod: wholeOf(form.max),
        period: form.period,
      });
      text = `Saved. ${ruleText(r)}`;
    } else {
      await client.autoTopup.clear(account.id);
    }
    reload();
    return text;
  });
  const set = (field: keyof RuleForm) => (value: string) =>
    setForm((f) => ({ ...f, [field]: value }));
  return (
    <ActionForm
      id="autotopup-title"
      title="Auto top-up"
      intro={
        <Async state={rule} what="the auto top-up rule">
          {(r) => <p data-testid="autotopup-current">{ruleText(r)}</p>}
        </Async>
      }
      disabled={done.status === 'running'}
      onSubmit={() => void act('save')}
      outcome={
        <>
          <ActionStatus state={done} running="Updating the rule" />
          {done.status === 'ok' && (
            <p role="status" className="result" data-testid="autotopup-result">
              {done.data}
            </p>
          )}
        </>
      }
    >
      <RuleFields packs={packs} form={form} onField={set} />
      <div className="row">
        <button type="submit">Save the rule</button>
        {rule.status === 'ok' && rule.data !== null && (
          <button type="button" className="secondary" onClick={() => void act('remove')}>
            Remove the rule
          </button>
        )}
      </div>
    </ActionForm>
  );
}

function RuleFields(props: {
  readonly packs: PackList;
  readonly form: RuleForm;
  readonly onField: (field: keyof RuleForm) => (value: string) => void;
}) {
  const { packs, form, onField: set } = props;
  return (
    <>
      <SelectField
        id="autotopup-pack"
        label="Pack to buy"
        value={form.pack}
        onValue={set('pack')}
        options={packs.packs.map((p) => ({
          value: p.id,
          label: `${p.id}: ${formatCredits(p.credits)} for ${formatMoney(p.priceCents, packs.currency)}`,
        }))}
      />
      <TextField
        id="autotopup-threshold"
        label="When available credits fall below"
        inputMode="numeric"
        value={form.threshold}
        onValue={set('threshold')}
      />
      <TextField
        id="autotopup-max"
        label="At most this many purchases"
        inputMode="numeric"
        value={form.max}
        onValue={set('max')}
      />
      <SelectField
        id="autotopup-period"
        label="Per"
        value={form.period}
        onValue={set('period')}
        options={PERIODS}
      />
    </>
  );
}
