export function TaskDefPage() {
  return <h1>TaskDefPage</h1>;
}
