// Open findings by severity over the chosen period: a stacked area per severity (Fluent UI's own
// charts, so that it looks like the Defender and Entra portals and follows the console's theme).

import { AreaChart, type ChartProps } from '@fluentui/react-charts';
import { Text, makeStyles, tokens } from '@fluentui/react-components';
import { SEVERITIES, SEVERITY_CHART_COLORS, severityCount } from '../shared/exposure';
import { Measured } from '../shared/charts';
import type { TrendPoint } from '../shared/exposure-types';

const useStyles = makeStyles({
  none: { color: tokens.colorNeutralForeground3, padding: '24px 0' },
});

/** A day (YYYY-MM-DD, UTC) as a date at UTC midnight. */
function dayDate(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}

export function TrendChart({ points: all, height = 300 }: { points: TrendPoint[]; height?: number }) {
  const styles = useStyles();
  // Days before the first successful sync have no data (not "no findings"): the chart starts with the history.
  const first = all.findIndex((p) => p.openFindings > 0 || p.exposedDevices > 0 || p.opened > 0 || p.fixed > 0);
  const points = first < 0 ? [] : all.slice(first);
  if (points.length === 0) return <Text className={styles.none}>No history yet: each successful sync adds a day.</Text>;
  // Lowest severity first, so that critical is drawn on top where the eye lands.
  const data: ChartProps = {
    chartTitle: 'Open findings by severity',
    lineChartData: [...SEVERITIES].reverse().map((severity) => ({
      legend: severity,
      color: SEVERITY_CHART_COLORS[severity],
      data: points.map((p) => ({ x: dayDate(p.day), y: severityCount(p.bySeverity, severity) })),
    })),
  };
  // One tick per day while they fit (about ten), else evenly spread days: never two ticks on one day.
  const step = Math.max(1, Math.ceil(points.length / 10));
  const ticks = points.filter((_, i) => (points.length - 1 - i) % step === 0).map((p) => dayDate(p.day));
  return (
    <Measured height={height} testId="trend-chart">{(width) => (
      <AreaChart
        data={data}
        width={width}
        height={height}
        useUTC
        yAxisTitle="Open findings"
        enablePerfOptimization={points.length > 120}
        legendProps={{ allowFocusOnLegends: true }}
        tickValues={ticks}
        customDateTimeFormatter={(date) => date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' })}
      />
    )}</Measured>
  );
}
