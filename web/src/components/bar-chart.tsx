import { useEffect, useState } from 'react';
import { formatNumber } from '../format.js';

/**
 * A horizontal bar chart in plain SVG, one row per bar (two when a series compares with the
 * previous period). The numbers are also a table for screen readers and for copying.
 */

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** The same measure in the period before, drawn thinner under the bar. */
  readonly previous?: number;
}

const ROW = 28;
const VALUE_WIDTH = 56;
/** Before the first layout (and without ResizeObserver): a desktop card's width. */
const DEFAULT_WIDTH = 560;

/**
 * The element's width in CSS pixels, kept up to date: the chart draws at that width, one
 * SVG unit to a pixel, so its text keeps the page's size on a phone and on a desktop.
 */
export function useWidth(): [(element: HTMLDivElement | null) => void, number] {
  const [element, setElement] = useState<HTMLDivElement | null>(null);
  const [width, setWidth] = useState(DEFAULT_WIDTH);
  useEffect(() => {
    if (!element || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(200, Math.floor(entry.contentRect.width)));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return [setElement, width];
}

export function BarChart(props: {
  readonly title: string;
  readonly bars: readonly Bar[];
  /** What the values count, e.g. "credits": the axis label. */
  readonly unit: string;
  readonly previousLabel?: string;
}) {
  const { bars, title, unit } = props;
  const [box, width] = useWidth();
  const id = `chart-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  if (bars.length === 0) {
    return (
      <figure className="chart">
        <figcaption>{title}</figcaption>
        <p className="muted">Nothing in this period.</p>
      </figure>
    );
  }
  const max = Math.max(1, ...bars.map((b) => Math.max(b.value, b.previous ?? 0)));
  const labelWidth = Math.min(130, Math.floor(width * 0.35));
  const plot = width - labelWidth - VALUE_WIDTH;
  const height = bars.length * ROW + 24;
  const scale = (v: number) => (v / max) * plot;
  const compare = bars.some((b) => b.previous !== undefined);
  return (
    <figure className="chart">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <div ref={box}>
        <svg
          width={width}
          height={height}
          viewBox={`0 0 ${width} ${height}`}
          role="img"
          aria-labelledby={`${id}-title`}
          aria-describedby={`${id}-table`}
          className="bar-chart"
        >
          {bars.map((b, i) => (
            <BarRow
              key={b.label}
              bar={b}
              y={i * ROW}
              labelWidth={labelWidth}
              scale={scale}
              compare={compare}
              unit={unit}
            />
          ))}
          <line x1={labelWidth} x2={labelWidth} y1={0} y2={bars.length * ROW} className="axis" />
          <text x={labelWidth} y={height - 4} className="axis-label">
            {unit} (0 to {formatNumber(max)})
          </text>
        </svg>
      </div>
      {compare && (
        <p className="muted small legend">
          Thin grey bars: {props.previousLabel ?? 'previous period'}
        </p>
      )}
      <ChartTable
        id={`${id}-table`}
        title={title}
        unit={unit}
        bars={bars}
        compare={compare}
        previousLabel={props.previousLabel ?? 'previous period'}
      />
    </figure>
  );
}

/** One bar of the chart: its label, the bar, the previous period's under it, the value. */
function BarRow(props: {
  readonly bar: Bar;
  readonly y: number;
  readonly labelWidth: number;
  readonly scale: (v: number) => number;
  readonly compare: boolean;
  readonly unit: string;
}) {
  const { bar: b, y, labelWidth, scale } = props;
  return (
    <g className="bar-row">
      <text x={labelWidth - 8} y={y + 16} textAnchor="end" className="axis-label">
        {b.label}
      </text>
      <rect
        className="bar"
        x={labelWidth}
        y={y + 4}
        width={Math.max(1, scale(b.value))}
        height={props.compare ? 12 : 18}
      >
        <title>{`${b.label}: ${formatNumber(b.value)} ${props.unit}`}</title>
      </rect>
      {b.previous !== undefined && (
        <rect
          className="bar previous"
          x={labelWidth}
          y={y + 17}
          width={Math.max(1, scale(b.previous))}
          height={6}
        />
      )}
      <text x={labelWidth + scale(b.value) + 6} y={y + 16} className="value-label">
        {formatNumber(b.value)}
      </text>
    </g>
  );
}

/** The chart's numbers as a table, for screen readers and for copying. */
function ChartTable(props: {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly Bar[];
  readonly compare: boolean;
  readonly previousLabel: string;
}) {
  const { title, unit, compare } = props;
  // A table takes the width of its content whatever its own width says: the hidden box
  // around it keeps it from widening the page (at phone width it did).
  return (
    <div className="visually-hidden">
      <table id={props.id}>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{title}</th>
            <th scope="col">{unit}</th>
            {compare && <th scope="col">{props.previousLabel}</th>}
          </tr>
        </thead>
        <tbody>
          {props.bars.map((b) => (
            <tr key={b.label}>
              <th scope="row">{b.label}</th>
              <td>{formatNumber(b.value)}</td>
              {compare && <td>{formatNumber(b.previous ?? 0)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
