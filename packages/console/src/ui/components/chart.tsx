// A time-series chart (uPlot, bundled: small, canvas-drawn, no dependencies). Resizes with its box;
// a table of the same numbers follows it for screen readers and keyboard users.
import { useEffect, useRef } from "preact/hooks";
import type { JSX } from "preact";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  /** CSS colour of the line. */
  colour: string;
  values: number[];
}

export interface ChartProps {
  /** Unix seconds, ascending. */
  times: number[];
  series: Series[];
  height?: number;
  /** Accessible name of the chart. */
  title: string;
}

export function TimeChart({ times, series, height = 220, title }: ChartProps): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => `${s.label}:${s.colour}`).join("|");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { size: 48 }],
      series: [
        {},
        ...series.map((s) => ({ label: s.label, stroke: s.colour, width: 2, points: { show: false } })),
      ],
    };
    const u = new uPlot(opts, [times, ...series.map((s) => s.values)], el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt when the series change shape; new data goes through setData below.
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)]);
  }, [times, series]);

  return <div class="chart" ref={box} role="img" aria-label={title} />;
}
