// Compliance over the chosen period: the share of open findings not overdue after each day's last
// sync, and the overdue findings, as lines (Fluent UI's own charts, like the overview's trend).

import { LineChart, type ChartProps } from '@fluentui/react-charts';
import { Text, makeStyles, tokens } from '@fluentui/react-components';
import { Measured } from '../shared/charts';
import type { SlaTrendPoint } from './types';

const useStyles = makeStyles({
  none: { color: tokens.colorNeutralForeground3, padding: '24px 0' },
  pair: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(360px, 1fr))', gap: '16px' },
});

const dayDate = (day: string) => new Date(`${day}T00:00:00Z`);

function Line({ points, legend, color, value, title, testId }: {
  points: SlaTrendPoint[]; legend: string; color: string; value: (p: SlaTrendPoint) => number; title: string; testId: string;
}) {
  const data: ChartProps = { chartTitle: title, lineChartData: [{ legend, color, data: points.map((p) => ({ x: dayDate(p.day), y: value(p) })) }] };
  const step = Math.max(1, Math.ceil(points.length / 8));
  const ticks = points.filter((_, i) => (points.length - 1 - i) % step === 0).map((p) => dayDate(p.day));
  return (
    <Measured height={240} testId={testId}>{(width) => (
      <LineChart
        data={data}
        width={width}
        height={240}
        useUTC
        yAxisTitle={title}
        tickValues={ticks}
        enablePerfOptimization={points.length > 120}
        customDateTimeFormatter={(date) => date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' })}
      />
    )}</Measured>
  );
}

export function ComplianceChart({ points: all }: { points: SlaTrendPoint[] }) {
  const styles = useStyles();
  // Days before the first successful sync have no figures: the chart starts with the history.
  const first = all.findIndex((p) => p.openFindings > 0 || p.fixed > 0);
  const points = first < 0 ? [] : all.slice(first);
  if (points.length === 0) return <Text className={styles.none}>No history yet: each successful sync adds a day.</Text>;
  return (
    <div className={styles.pair}>
      <Line points={points} legend="Compliance" color={tokens.colorPaletteGreenBorderActive} value={(p) => p.compliance ?? 100} title="Compliance (%)" testId="compliance-chart" />
      <Line points={points} legend="Overdue" color={tokens.colorPaletteRedBorderActive} value={(p) => p.overdue} title="Overdue findings" testId="overdue-chart" />
    </div>
  );
}
