export function WfSpecMetricsPage() {
  return <h1>WfSpecMetricsPage</h1>;
}
