export function UserTasksPage() {
  return <h1>UserTasksPage</h1>;
}
