export function TaskRunsPage() {
  return <h1>TaskRunsPage</h1>;
}
