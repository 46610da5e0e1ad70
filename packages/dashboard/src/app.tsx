/**
 * The dashboard's pages, each at its own URL (so a link can be shared). Query keys begin with the tenant,
 * so switching tenants shows the new tenant's objects.
 */
import { Route, Routes } from "react-router";
import { Layout } from "./components/layout";
import { NotFound } from "./components/errors";
import { HomePage } from "./pages/home";

import { WfSpecPage } from "./pages/wf-spec";
import { WfRunPage } from "./pages/wf-run";
import { TaskRunsPage } from "./pages/task-runs";
import { TaskDefPage } from "./pages/task-def";
import { UserTasksPage } from "./pages/user-tasks";
import { WfSpecMetricsPage } from "./pages/wf-spec-metrics";
import { ExternalEventDefPage, UserTaskDefPage } from "./pages/defs";

// Every page is in the first bundle, so its data is asked for at once; the graph (elkjs, xyflow) and the
// charts (recharts), most of the code, load where they are drawn (graph/lazy-graph.tsx,
// components/lazy-charts.tsx), while the page shows its data.
export function App() {
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<HomePage />} />
        <Route path="/wfSpec/:name" element={<WfSpecPage />} />
        <Route path="/wfSpec/:name/:major/:revision" element={<WfSpecPage />} />
        <Route path="/wfSpec/:name/:major/:revision/metrics" element={<WfSpecMetricsPage />} />
        <Route path="/wfRun/:id" element={<WfRunPage />} />
        <Route path="/taskRuns" element={<TaskRunsPage />} />
        <Route path="/taskDef/:name" element={<TaskDefPage />} />
        <Route path="/userTasks" element={<UserTasksPage />} />
        <Route path="/userTaskDef/:name" element={<UserTaskDefPage />} />
        <Route path="/externalEventDef/:name" element={<ExternalEventDefPage />} />
        <Route path="*" element={<NotFound what="This page" />} />
      </Routes>
    </Layout>
  );
}
