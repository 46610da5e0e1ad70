/**
 * What a person can do to a WfRun: stop, resume, rescue a failed thread, post an external event, and run
 * the WfSpec again with the same inputs. Each shows the server's error (status and message) if refused.
 */
import { useState } from "react";
import { useNavigate } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { LHStatus, VariableType, type VariableValue, type WfRun } from "@pony/proto";
import { lh } from "../api/client";
import { variableTypeName } from "../api/format";
import { wfRunPath } from "../api/ids";
import { useSession } from "../api/session";
import { ENTERABLE_TYPES, parseValue, typeOfValue, valueText } from "../api/values";
import { ErrorBox } from "../components/errors";

function useRunAction<T>(wfRun: WfRun, fn: (arg: T) => Promise<unknown>) {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: () => queries.invalidateQueries({ queryKey: [] }),
  });
}

function ExternalEventForm({ wfRun, onDone }: { wfRun: WfRun; onDone: () => void }) {
  const { tenant } = useSession();
  const defs = useQuery({
    queryKey: [tenant, "externalEventDefs"],
    queryFn: () => lh.searchExternalEventDef({ limit: 1000 }),
  });
  const [def, setDef] = useState("");
  const [type, setType] = useState<VariableType>(VariableType.STR);
  const [text, setText] = useState("");
  const [fieldError, setFieldError] = useState<string | undefined>();
  const post = useRunAction(wfRun, (content: VariableValue) =>
    lh.putExternalEvent({ wfRunId: wfRun.id, externalEventDefId: { name: def }, content }),
  );
  return (
    <form
      className="panel"
      aria-label="post an external event"
      onSubmit={(e) => {
        e.preventDefault();
        const parsed = parseValue(type, text);
        if (!parsed.ok) return setFieldError(`The content ${parsed.error}`);
        setFieldError(undefined);
        post.mutate(parsed.value, { onSuccess: onDone });
      }}
    >
      <div className="filters">
        <label>
          ExternalEventDef
          <select
            aria-label="external event def"
            value={def}
            onChange={(e) => setDef(e.target.value)}
            required
          >
            <option value="">choose…</option>
            {defs.data?.results.map((d) => (
              <option key={d.name} value={d.name}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select aria-label="content type" value={type} onChange={(e) => setType(Number(e.target.value))}>
            {ENTERABLE_TYPES.map((t) => (
              <option key={t} value={t}>
                {variableTypeName(t)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Content
          <input aria-label="content" value={text} onChange={(e) => setText(e.target.value)} size={30} />
        </label>
        <button type="submit" className="primary" disabled={!def || post.isPending}>
          Post
        </button>
      </div>
      {fieldError && <div className="field-error">{fieldError}</div>}
      {post.error && <ErrorBox error={post.error} />}
    </form>
  );
}

function RunAgainForm({ wfRun, onDone }: { wfRun: WfRun; onDone: () => void }) {
  const { tenant } = useSession();
  const navigate = useNavigate();
  // the inputs: the entrypoint thread's variables as the WfRun holds them
  const vars = useQuery({
    queryKey: [tenant, "runAgainInputs", wfRun.id?.id],
    queryFn: () => lh.listVariables({ wfRunId: wfRun.id, limit: 1000 }),
  });
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const run = useMutation({
    mutationFn: (variables: Record<string, VariableValue>) =>
      lh.runWf({
        wfSpecName: wfRun.wfSpecId!.name,
        majorVersion: wfRun.wfSpecId!.majorVersion,
        revision: wfRun.wfSpecId!.revision,
        variables,
        parentWfRunId: wfRun.id?.parentWfRunId,
      }),
    onSuccess: (r) => {
      onDone();
      void navigate(wfRunPath(r.id));
    },
  });
  const inputs = (vars.data?.results ?? []).filter((v) => v.id?.threadRunNumber === 0);
  return (
    <form
      className="panel"
      aria-label="run again"
      onSubmit={(e) => {
        e.preventDefault();
        const out: Record<string, VariableValue> = {};
        const errs: Record<string, string> = {};
        for (const v of inputs) {
          const name = v.id!.name;
          const type = typeOfValue(v.value);
          if (type === undefined) continue;
          const text = edits[name] ?? valueText(v.value);
          if (type === VariableType.BYTES) {
            if (v.value) out[name] = v.value;
            continue;
          }
          const parsed = parseValue(type, text);
          if (parsed.ok) out[name] = parsed.value;
          else errs[name] = `${name} ${parsed.error}`;
        }
        setErrors(errs);
        if (Object.keys(errs).length === 0) run.mutate(out);
      }}
    >
      <h2>Run {wfRun.wfSpecId?.name} again with these inputs</h2>
      {vars.error && <ErrorBox error={vars.error} what="the inputs" />}
      {inputs.length === 0 && <div className="empty">The WfRun has no entrypoint variables.</div>}
      {inputs.map((v) => {
        const name = v.id!.name;
        return (
          <div className="form-field" key={name}>
            <label htmlFor={`again-${name}`}>
              {name} <span className="muted">({variableTypeName(typeOfValue(v.value))})</span>
            </label>
            <input
              id={`again-${name}`}
              value={edits[name] ?? valueText(v.value)}
              onChange={(e) => setEdits({ ...edits, [name]: e.target.value })}
            />
            {errors[name] && <div className="field-error">{errors[name]}</div>}
          </div>
        );
      })}
      <div className="actions">
        <button type="submit" className="primary" disabled={run.isPending}>
          Run
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
      {run.error && <ErrorBox error={run.error} />}
    </form>
  );
}

export function WfRunActions({ wfRun }: { wfRun: WfRun }) {
  const [open, setOpen] = useState<"event" | "again" | undefined>();
  const stop = useRunAction(wfRun, () => lh.stopWfRun({ wfRunId: wfRun.id, threadRunNumber: 0 }));
  const resume = useRunAction(wfRun, () => lh.resumeWfRun({ wfRunId: wfRun.id, threadRunNumber: 0 }));
  const s = wfRun.status;
  const finished = s === LHStatus.COMPLETED || s === LHStatus.ERROR || s === LHStatus.EXCEPTION;
  return (
    <>
      <div className="actions" aria-label="actions">
        <button
          type="button"
          className="danger"
          disabled={finished || s === LHStatus.HALTED || stop.isPending}
          onClick={() => stop.mutate(undefined)}
        >
          Stop
        </button>
        <button
          type="button"
          disabled={!(s === LHStatus.HALTED || s === LHStatus.HALTING) || resume.isPending}
          onClick={() => resume.mutate(undefined)}
        >
          Resume
        </button>
        <button
          type="button"
          disabled={finished}
          onClick={() => setOpen(open === "event" ? undefined : "event")}
        >
          Post external event
        </button>
        <button type="button" onClick={() => setOpen(open === "again" ? undefined : "again")}>
          Run again
        </button>
      </div>
      {stop.error && <ErrorBox error={stop.error} />}
      {resume.error && <ErrorBox error={resume.error} />}
      {open === "event" && <ExternalEventForm wfRun={wfRun} onDone={() => setOpen(undefined)} />}
      {open === "again" && <RunAgainForm wfRun={wfRun} onDone={() => setOpen(undefined)} />}
    </>
  );
}

/** Rescue a failed ThreadRun: run its failed node again, or skip it. */
export function RescueButton({ wfRun, thread }: { wfRun: WfRun; thread: number }) {
  const [skip, setSkip] = useState(false);
  const rescue = useRunAction(wfRun, () =>
    lh.rescueThreadRun({ wfRunId: wfRun.id, threadRunNumber: thread, skipCurrentNode: skip }),
  );
  return (
    <span className="actions">
      <button
        type="button"
        className="primary"
        disabled={rescue.isPending}
        onClick={() => rescue.mutate(undefined)}
      >
        Rescue thread {thread}
      </button>
      <label>
        <input type="checkbox" checked={skip} onChange={(e) => setSkip(e.target.checked)} /> skip the failed
        node
      </label>
      {rescue.error && <ErrorBox error={rescue.error} />}
    </span>
  );
}
