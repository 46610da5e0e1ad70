/** The pages of a UserTaskDef and an ExternalEventDef: what they define. */
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { lh } from "../api/client";
import { formatTime, variableTypeName } from "../api/format";
import { useSession } from "../api/session";
import { Loaded } from "../components/errors";

export function UserTaskDefPage() {
  const { name = "" } = useParams();
  const { tenant } = useSession();
  const def = useQuery({
    queryKey: [tenant, "userTaskDef", name],
    queryFn: () => lh.getLatestUserTaskDef({ name }),
  });
  return (
    <Loaded query={def} what={`UserTaskDef '${name}'`}>
      {(d) => (
        <>
          <h1>
            UserTaskDef {d.name} <span className="muted">v{d.version}</span>
          </h1>
          <section className="panel">
            <dl className="facts">
              <dt>Description</dt>
              <dd>{d.description || "–"}</dd>
              <dt>Created</dt>
              <dd>{formatTime(d.createdAt)}</dd>
            </dl>
            <h2>Fields</h2>
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Display name</th>
                  <th>Type</th>
                  <th>Required</th>
                  <th>Description</th>
                </tr>
              </thead>
              <tbody>
                {d.fields.map((f) => (
                  <tr key={f.name}>
                    <td>{f.name}</td>
                    <td>{f.displayName}</td>
                    <td>{variableTypeName(f.type)}</td>
                    <td>{f.required ? "yes" : "no"}</td>
                    <td>{f.description}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p>
              <Link to={`/userTasks?def=${encodeURIComponent(d.name)}`}>Its user tasks →</Link>
            </p>
          </section>
        </>
      )}
    </Loaded>
  );
}

export function ExternalEventDefPage() {
  const { name = "" } = useParams();
  const { tenant } = useSession();
  const def = useQuery({
    queryKey: [tenant, "externalEventDef", name],
    queryFn: () => lh.getExternalEventDef({ name }),
  });
  return (
    <Loaded query={def} what={`ExternalEventDef '${name}'`}>
      {(d) => (
        <>
          <h1>ExternalEventDef {d.id?.name}</h1>
          <section className="panel">
            <dl className="facts">
              <dt>Created</dt>
              <dd>{formatTime(d.createdAt)}</dd>
              <dt>Retention</dt>
              <dd>
                {d.retentionPolicy?.extEvtGcPolicy.case === "secondsAfterPut"
                  ? `${d.retentionPolicy.extEvtGcPolicy.value} s after it is posted`
                  : "kept"}
              </dd>
            </dl>
          </section>
        </>
      )}
    </Loaded>
  );
}
