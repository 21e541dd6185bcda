import type { DailySeries, DailyUsage } from '../../../src/client/index.js';
import { formatNumber, formatUtcDay } from '../format.js';
import { useWidth } from './bar-chart.js';

/**
 * A cycle's daily usage as stacked columns in plain SVG, one column a UTC day, one colour a
 * series (the legend names them), and the same numbers as a table for screen readers and for
 * copying. Colours come from classes (series-0 ... series-5, other, none), never inline styles
 * (the CSP).
 */

const HEIGHT = 180;
const AXIS = 22;
const LEFT = 40;

/** A series' name for people: its key, "Other", or "No member" / "No project". */
export function seriesName(s: DailySeries, by: DailyUsage['by']): string {
  if (s.kind === 'key') return s.key ?? '';
  return s.kind === 'other' ? 'Other' : `No ${by}`;
}

function seriesClass(s: DailySeries, i: number): string {
  return s.kind === 'key' ? `series-${i % 6}` : `series-${s.kind}`;
}

export function DailyChart(props: { readonly title: string; readonly usage: DailyUsage }) {
  const { usage, title } = props;
  const [box, width] = useWidth();
  const id = `chart-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  const max = Math.max(1, ...usage.days.map((d) => d.credits));
  const names = usage.series.map((s) => seriesName(s, usage.by));
  return (
    <figure className="chart daily-chart">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      {usage.credits === 0 ? (
        <p className="muted">Nothing spent in this cycle yet.</p>
      ) : (
        <>
          <div ref={box}>
            <svg
              width={width}
              height={HEIGHT}
              viewBox={`0 0 ${width} ${HEIGHT}`}
              role="img"
              aria-labelledby={`${id}-title`}
              aria-describedby={`${id}-table`}
            >
              <text x={LEFT - 6} y={12} textAnchor="end" className="axis-label">
                {formatNumber(max)}
              </text>
              <text x={LEFT - 6} y={HEIGHT - AXIS} textAnchor="end" className="axis-label">
                0
              </text>
              <Columns usage={usage} names={names} width={width} max={max} />
              <line x1={LEFT} x2={width} y1={HEIGHT - AXIS} y2={HEIGHT - AXIS} className="axis" />
            </svg>
          </div>
          <ul className="legend-list">
            {usage.series.map((s, i) => (
              <li key={`${s.kind}-${s.key ?? ''}`}>
                <svg width="12" height="12" aria-hidden="true">
                  <rect width="12" height="12" className={seriesClass(s, i)} />
                </svg>{' '}
                {names[i]}: {formatNumber(s.credits)}
              </li>
            ))}
          </ul>
        </>
      )}
      <DailyTable id={`${id}-table`} title={title} usage={usage} names={names} />
    </figure>
  );
}

/** One stacked column a day, and a day label every few columns (so they never overlap). */
function Columns(props: {
  readonly usage: DailyUsage;
  readonly names: readonly string[];
  readonly width: number;
  readonly max: number;
}) {
  const { usage, names, max } = props;
  const days = usage.days;
  const column = (props.width - LEFT) / Math.max(1, days.length);
  const every = Math.max(1, Math.ceil(56 / column));
  const y = (credits: number) => ((HEIGHT - AXIS) * credits) / max;
  return (
    <>
      {days.map((d, i) => {
        let top = HEIGHT - AXIS;
        return (
          <g key={d.from}>
            {d.split.map((credits, s) => {
              if (credits === 0) return null;
              const h = Math.max(1, y(credits));
              top -= h;
              return (
                <rect
                  key={s}
                  x={LEFT + i * column + column * 0.15}
                  y={top}
                  width={Math.max(1, column * 0.7)}
                  height={h}
                  className={seriesClass(usage.series[s]!, s)}
                >
                  <title>{`${formatUtcDay(d.from)}, ${names[s]}: ${formatNumber(credits)} credits`}</title>
                </rect>
              );
            })}
            {i % every === 0 && (
              <DayLabel x={LEFT + i * column + column / 2} width={props.width} day={d.from} />
            )}
          </g>
        );
      })}
    </>
  );
}

/** A day's label under its column; near the right edge it ends there, so it is never cut. */
function DayLabel(props: { readonly x: number; readonly width: number; readonly day: number }) {
  const end = props.x > props.width - 28;
  return (
    <text
      x={end ? props.width - 2 : props.x}
      y={HEIGHT - 6}
      textAnchor={end ? 'end' : 'middle'}
      className="axis-label"
    >
      {formatUtcDay(props.day)}
    </text>
  );
}

/** Every day with its total and split: the chart's numbers, for screen readers and copying. */
function DailyTable(props: {
  readonly id: string;
  readonly title: string;
  readonly usage: DailyUsage;
  readonly names: readonly string[];
}) {
  const { usage, names } = props;
  // Inside a hidden box, not hidden itself: a table is as wide as its content (ChartTable).
  return (
    <div className="visually-hidden">
      <table id={props.id} data-testid="daily-table">
        <caption>{props.title}</caption>
        <thead>
          <tr>
            <th scope="col">Day (UTC)</th>
            <th scope="col">Credits</th>
            {names.map((n, i) => (
              <th scope="col" key={i}>
                {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {usage.days.map((d) => (
            <tr key={d.from}>
              <th scope="row">{formatUtcDay(d.from)}</th>
              <td>{formatNumber(d.credits)}</td>
              {d.split.map((c, i) => (
                <td key={i}>{formatNumber(c)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
