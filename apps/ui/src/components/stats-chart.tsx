import { useId } from 'react';
import { Typography, theme } from 'antd';
import { linePath, niceCeiling, summarize } from '../chart.js';
import { formatAge } from '../format.js';

const box = { width: 600, height: 120 };

export interface StatsChartProps {
  title: string;
  /** Names the figure for tests: data-testid="chart-<name>". */
  name: string;
  points: readonly { time: number; value: number }[];
  format: (value: number) => string;
  /** The axis reaches at least this (e.g. 1% so an idle app is not drawn as a full-height line). */
  minTop?: number;
  /** A fixed top instead (a capacity: 100%, the total RAM), so a full-height line means full. */
  top?: number;
  color?: string;
}

/**
 * A small line chart drawn as SVG: time across (oldest sample to newest), 0..a round top up.
 * Screen readers get the title and a summary (latest, lowest, highest, time covered) as the
 * image's name; the same summary is the visible caption.
 */
export function StatsChart({ title, name, points, format, minTop = 1, top: fixedTop, color }: StatsChartProps) {
  const { token } = theme.useToken();
  const titleId = useId();
  const top = fixedTop !== undefined && fixedTop > 0 ? fixedTop : niceCeiling(Math.max(minTop, ...points.map((p) => p.value)));
  const line = linePath(points, top, box);
  const summary = summarize(points, format, formatAge);
  const stroke = color ?? token.colorPrimary;
  const first = points[0];
  const last = points.at(-1);

  return (
    <figure style={{ margin: 0 }} data-testid={`chart-${name}`} data-samples={points.length}>
      <figcaption id={titleId} style={{ marginBottom: 4 }}>
        <strong>{title}</strong> <Typography.Text type="secondary">{summary}</Typography.Text>
      </figcaption>
      <div style={{ display: 'flex', height: box.height, gap: 6 }}>
        <div
          aria-hidden="true"
          style={{ display: 'flex', flexDirection: 'column', justifyContent: 'space-between', fontSize: 11, color: token.colorTextSecondary, minWidth: 44, textAlign: 'right' }}
        >
          <span>{format(top)}</span>
          <span>{format(top / 2)}</span>
          <span>{format(0)}</span>
        </div>
        <svg
          role="img"
          aria-label={`${title}: ${summary}`}
          viewBox={`0 0 ${box.width} ${box.height}`}
          preserveAspectRatio="none"
          style={{ flex: 1, minWidth: 0, height: '100%', border: `1px solid ${token.colorBorderSecondary}`, borderRadius: 4 }}
        >
          {[0.5].map((fraction) => (
            <line key={fraction} x1={0} x2={box.width} y1={box.height * fraction} y2={box.height * fraction} stroke={token.colorBorderSecondary} vectorEffect="non-scaling-stroke" />
          ))}
          {line !== '' && (
            <>
              <path d={`${line} L${box.width} ${box.height} L0 ${box.height} Z`} fill={stroke} fillOpacity={0.12} stroke="none" />
              <path d={line} fill="none" stroke={stroke} strokeWidth={2} vectorEffect="non-scaling-stroke" strokeLinejoin="round" />
            </>
          )}
        </svg>
      </div>
      {first !== undefined && last !== undefined && (
        <div aria-hidden="true" style={{ display: 'flex', justifyContent: 'space-between', fontSize: 11, color: token.colorTextSecondary, marginLeft: 50 }}>
          <span>{new Date(first.time * 1000).toLocaleTimeString()}</span>
          <span>{new Date(last.time * 1000).toLocaleTimeString()}</span>
        </div>
      )}
    </figure>
  );
}
