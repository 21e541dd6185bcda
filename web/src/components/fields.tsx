import { useEffect, useRef, type InputHTMLAttributes, type ReactNode } from 'react';

/**
 * A whole number from a field, or NaN (sent as null): the API then names what is wrong, so the
 * dashboard shows the same problem and code as any client would get.
 */
export function wholeOf(text: string): number {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
}

/** A labelled form field: the label names the control (its id), as every form here does. */

export function TextField(
  props: {
    readonly id: string;
    readonly label: string;
    readonly value: string;
    readonly onValue: (value: string) => void;
  } & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange'>,
) {
  const { id, label, value, onValue, ...rest } = props;
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value} onChange={(e) => onValue(e.target.value)} {...rest} />
    </div>
  );
}

export function SelectField<V extends string>(props: {
  readonly id: string;
  readonly label: string;
  readonly value: V;
  readonly onValue: (value: V) => void;
  readonly options: readonly { readonly value: V; readonly label: string }[];
  readonly children?: ReactNode;
}) {
  return (
    <div>
      <label htmlFor={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={props.value}
        onChange={(e) => props.onValue(e.target.value as V)}
      >
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * A question before an action that cannot be undone: the yes and the no buttons. With `focus`,
 * the yes button takes the focus when the question appears (a keyboard user lands on it) and
 * Escape answers no; the caller gives the focus back to what opened it.
 */
export function Confirm(props: {
  readonly id: string;
  readonly children: ReactNode;
  readonly yes: string;
  readonly no: string;
  readonly busy: boolean;
  readonly onYes: () => void;
  readonly onNo: () => void;
  readonly role?: 'group' | 'alertdialog';
  readonly focus?: boolean;
  /** The yes button is left out (the action is done: only the no button, as "Close", stays). */
  readonly done?: boolean;
}) {
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (props.focus === true) yes.current?.focus();
  }, [props.focus]);
  return (
    <div
      className="card confirm"
      role={props.role ?? 'group'}
      aria-labelledby={props.id}
      onKeyDown={(e) => {
        if (props.focus === true && e.key === 'Escape') props.onNo();
      }}
    >
      <div id={props.id}>{props.children}</div>
      <div className="row">
        {props.done !== true && (
          <button type="button" ref={yes} disabled={props.busy} onClick={props.onYes}>
            {props.yes}
          </button>
        )}
        <button type="button" className="secondary" onClick={props.onNo}>
          {props.no}
        </button>
      </div>
    </div>
  );
}

/**
 * A card form with its heading: `onSubmit` runs without the page reload, `onEdit` on any change
 * of its fields (a new intent: keyed-action.ts). The browser's own validation is off, so bad
 * input reaches the API and its problem is shown.
 */
export function ActionForm(props: {
  readonly id: string;
  readonly title: string;
  readonly level?: 2 | 3;
  readonly intro?: ReactNode;
  readonly disabled: boolean;
  readonly onSubmit: () => void;
  readonly onEdit?: () => void;
  readonly children: ReactNode;
  /** What the action did or its problem, under the fields. */
  readonly outcome: ReactNode;
}) {
  const Heading = props.level === 3 ? 'h3' : 'h2';
  return (
    <form
      className="card"
      aria-labelledby={props.id}
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit();
      }}
      onChange={props.onEdit}
      noValidate
    >
      <Heading id={props.id}>{props.title}</Heading>
      {props.intro}
      <fieldset disabled={props.disabled}>
        <legend className="visually-hidden">{props.title}</legend>
        {props.children}
      </fieldset>
      {props.outcome}
    </form>
  );
}
