import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter } from "react-router";
import { isNotFound } from "./api/client";
import { SessionProvider } from "./api/session";
import { App } from "./app";
import { elkWorker } from "./graph/elk-worker";
import { WfGraph } from "./graph/lazy-graph";

// a page with a graph: elkjs's worker and the graph's code start loading before React has even started
if (/^\/(wfSpec|wfRun)\//.test(window.location.pathname)) {
  elkWorker();
  void WfGraph.preload();
}

import "./styles.css";

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // a missing object stays missing: show the not-found page at once
      retry: (count, e) => !isNotFound(e) && count < 1,
      staleTime: 2000,
      refetchOnWindowFocus: false,
    },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <SessionProvider>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
