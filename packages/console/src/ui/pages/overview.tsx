// Overview: every component and its XEP-0114 links (status, reconnects, queue depth), deliveries and
// refusals (totals, refusals by reason), decisions over time, store and directory health.
// GET /overview, refreshed every 5 s.
import type { JSX } from "preact";
import { useMemo } from "preact/hooks";
import type { Page } from "./types";
import { useApi } from "../hooks";
import { Badge, ErrorBox, Loading } from "../components/status";
import { TimeChart } from "../components/chart";

export interface OverviewLink {
  name: string;
  state: string;
  online: boolean;
  reconnects: number;
  queueDepth: number;
}

export interface Overview {
  components: { name: string; ready: boolean; links: OverviewLink[] }[];
  store: { kind: string; healthy: boolean };
  directory?: { healthy: boolean };
  totals: { deliveries: number; refusals: number; refusalsByReason: Record<string, number> };
  series: { t: number; deliveries: number; refusals: number }[];
  /** Seconds between two points of the series. */
  intervalSeconds: number;
}

const fmt = new Intl.NumberFormat("en");

function Rate({
  series,
  pick,
  interval,
}: {
  series: Overview["series"];
  pick: "deliveries" | "refusals";
  interval: number;
}) {
  // The last minute's rate (the last 60 s of points).
  const n = Math.max(1, Math.round(60 / interval));
  const last = series.slice(-n);
  const sum = last.reduce((a, p) => a + p[pick], 0);
  const perMinute = last.length === 0 ? 0 : (sum * 60) / (last.length * interval);
  return <>{fmt.format(Math.round(perMinute * 10) / 10)}/min</>;
}

function View(): JSX.Element {
  const { data, error, loading } = useApi<Overview>("/overview", 5000);
  const times = useMemo(() => data?.series.map((p) => p.t) ?? [], [data]);
  const chartSeries = useMemo(
    () => [
      { label: "Deliveries", colour: "#1f6feb", values: data?.series.map((p) => p.deliveries) ?? [] },
      { label: "Refusals", colour: "#cf222e", values: data?.series.map((p) => p.refusals) ?? [] },
    ],
    [data],
  );
  if (!data) return error ? <ErrorBox error={error} /> : <Loading what={loading ? "Loading" : "Waiting"} />;
  const reasons = Object.entries(data.totals.refusalsByReason).sort((a, b) => b[1] - a[1]);
  const maxReason = reasons[0]?.[1] ?? 0;
  const links = data.components.flatMap((c) => c.links);
  const online = links.filter((l) => l.online).length;
  return (
    <div class="overview">
      <ErrorBox error={error} />
      <section class="cards" aria-label="Summary">
        <div class="card">
          <h2>Links</h2>
          <p class="big" data-testid="links-online">
            {online} / {links.length} online
          </p>
        </div>
        <div class="card">
          <h2>Deliveries</h2>
          <p class="big">{fmt.format(data.totals.deliveries)}</p>
          <p class="muted">
            <Rate series={data.series} pick="deliveries" interval={data.intervalSeconds} />
          </p>
        </div>
        <div class="card">
          <h2>Refusals</h2>
          <p class="big">{fmt.format(data.totals.refusals)}</p>
          <p class="muted">
            <Rate series={data.series} pick="refusals" interval={data.intervalSeconds} />
          </p>
        </div>
        <div class="card">
          <h2>Store</h2>
          <p class="big">
            <Badge ok={data.store.healthy} yes="healthy" no="unhealthy" />
          </p>
          <p class="muted">{data.store.kind}</p>
        </div>
        {data.directory ? (
          <div class="card">
            <h2>Directory</h2>
            <p class="big">
              <Badge ok={data.directory.healthy} yes="healthy" no="unhealthy" />
            </p>
            <p class="muted">LDAP</p>
          </div>
        ) : null}
      </section>

      <section aria-labelledby="components-h">
        <h2 id="components-h">Components and XEP-0114 links</h2>
        <div class="table-wrap" tabIndex={0} role="region" aria-labelledby="components-h">
          <table class="links">
            <thead>
              <tr>
                <th scope="col">Component</th>
                <th scope="col">Link</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Reconnects
                </th>
                <th scope="col" class="num">
                  Queue
                </th>
              </tr>
            </thead>
            <tbody>
              {data.components.flatMap((c) =>
                (c.links.length > 0 ? c.links : [undefined]).map((l, i) => (
                  <tr key={`${c.name}/${l?.name ?? ""}`} data-link={l?.name}>
                    {i === 0 ? (
                      <th scope="row" rowSpan={Math.max(1, c.links.length)}>
                        {c.name} <Badge ok={c.ready} yes="ready" no="not ready" />
                      </th>
                    ) : null}
                    <td>{l ? l.name : <span class="muted">no link</span>}</td>
                    <td>{l ? <Badge ok={l.online} yes={l.state} no={l.state} /> : "—"}</td>
                    <td class="num">{l ? fmt.format(l.reconnects) : "—"}</td>
                    <td class="num">{l ? fmt.format(l.queueDepth) : "—"}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="decisions-h">
        <h2 id="decisions-h">Decisions over time</h2>
        <p class="muted">
          Deliveries and refusals every {data.intervalSeconds} s (last{" "}
          {Math.round((data.series.length * data.intervalSeconds) / 60)} min).
        </p>
        <TimeChart times={times} series={chartSeries} title="Deliveries and refusals over time" />
      </section>

      <section aria-labelledby="reasons-h">
        <h2 id="reasons-h">Refusals by reason</h2>
        {reasons.length === 0 ? (
          <p class="muted">No refusals since Cordon started.</p>
        ) : (
          <table class="reasons">
            <thead>
              <tr>
                <th scope="col">Reason</th>
                <th scope="col" class="num">
                  Refusals
                </th>
                <th scope="col">
                  <span class="sr-only">Share</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {reasons.map(([reason, count]) => (
                <tr key={reason}>
                  <td>
                    <code>{reason}</code>
                  </td>
                  <td class="num">{fmt.format(count)}</td>
                  <td class="bar-cell">
                    <span
                      class="bar"
                      style={{ width: `${maxReason ? Math.round((count / maxReason) * 100) : 0}%` }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

export const page: Page = { path: "/overview", title: "Overview", View };
