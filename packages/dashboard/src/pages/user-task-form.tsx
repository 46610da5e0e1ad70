/**
 * Completing a UserTaskRun: a form built from the fields of the run's UserTaskDef version, one input per
 * field typed by its VariableType (a checkbox for BOOL, a text area for JSON, text checked by parseValue for
 * the rest). Nothing is sent while a required field is empty or a value does not fit its type: the reason is
 * shown next to the field. A refusal by the server is shown under the form (status and message), and next
 * to the field its message names. After success every query of the tenant is refetched.
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  VariableType,
  type UserTaskDefId,
  type UserTaskField,
  type UserTaskRun,
  type VariableValue,
} from "@pony/proto";
import { describeError, lh } from "../api/client";
import { variableTypeName } from "../api/format";
import { useSession } from "../api/session";
import { parseValue } from "../api/values";
import { ErrorBox } from "../components/errors";

/** the UserTaskDef version a run was made from */
export function useUserTaskDef(id: UserTaskDefId | undefined) {
  const { tenant } = useSession();
  return useQuery({
    queryKey: [tenant, "userTaskDefVersion", id?.name, id?.version],
    queryFn: () => lh.getUserTaskDef({ name: id!.name, version: id!.version }),
    enabled: id !== undefined,
    staleTime: 60_000,
  });
}

const USER_ID = "user_id";

const labelOf = (f: UserTaskField) => f.displayName || f.name;

const inputId = (name: string) => `ut-field-${name}`;

/** the field (or `user_id`) a server message is about, if it names one */
function fieldNamedIn(message: string, fields: UserTaskField[]): string | undefined {
  const quoted = /field '([^']+)'/.exec(message)?.[1];
  if (quoted && fields.some((f) => f.name === quoted)) return quoted;
  if (/\buser_id\b/.test(message)) return USER_ID;
  return undefined;
}

function FieldInput({
  field,
  text,
  checked,
  error,
  onText,
  onChecked,
}: {
  field: UserTaskField;
  text: string;
  checked: boolean;
  error: string | undefined;
  onText: (text: string) => void;
  onChecked: (checked: boolean) => void;
}) {
  const id = inputId(field.name);
  const errorId = `${id}-error`;
  const common = {
    id,
    name: field.name,
    "aria-invalid": error !== undefined,
    "aria-describedby": error ? errorId : undefined,
  };
  const type = (
    <span className="muted ut-field-type">
      {variableTypeName(field.type)}
      {field.required ? ", required" : ", optional"}
    </span>
  );
  let input: React.ReactNode;
  switch (field.type) {
    case VariableType.BOOL:
      input = (
        <div className="ut-field-head">
          <label className="ut-check" htmlFor={id}>
            <input
              {...common}
              type="checkbox"
              checked={checked}
              onChange={(e) => onChecked(e.target.checked)}
            />
            {labelOf(field)}
          </label>
          {type}
        </div>
      );
      break;
    case VariableType.JSON_OBJ:
    case VariableType.JSON_ARR:
      input = (
        <textarea
          {...common}
          rows={3}
          spellCheck={false}
          placeholder={field.type === VariableType.JSON_OBJ ? '{"key": "value"}' : "[1, 2, 3]"}
          value={text}
          onChange={(e) => onText(e.target.value)}
        />
      );
      break;
    case VariableType.INT:
    case VariableType.DOUBLE:
      input = (
        <input
          {...common}
          type="text"
          inputMode={field.type === VariableType.INT ? "numeric" : "decimal"}
          placeholder={field.type === VariableType.INT ? "a whole number" : "a number"}
          value={text}
          onChange={(e) => onText(e.target.value)}
        />
      );
      break;
    case VariableType.BYTES:
      input = <div className="muted">Bytes cannot be entered here.</div>;
      break;
    default:
      input = <input {...common} type="text" value={text} onChange={(e) => onText(e.target.value)} />;
  }
  return (
    <div className={`form-field ut-field${error ? " invalid" : ""}`} data-field={field.name}>
      {field.type !== VariableType.BOOL && (
        <div className="ut-field-head">
          <label htmlFor={id}>
            {labelOf(field)}
            {field.required && (
              <span className="ut-required" aria-hidden="true">
                {" "}
                *
              </span>
            )}
          </label>
          {type}
        </div>
      )}
      {input}
      {field.description && <div className="muted ut-field-description">{field.description}</div>}
      {error && (
        <div className="field-error" id={errorId}>
          {error}
        </div>
      )}
    </div>
  );
}

/**
 * The form while the run is live (ASSIGNED or UNASSIGNED); once it is not, only the server's refusal of the
 * last completion, if any (say the run was cancelled meanwhile).
 */
export function CompleteUserTaskForm({ run, live }: { run: UserTaskRun; live: boolean }) {
  const { tenant } = useSession();
  const queries = useQueryClient();
  const def = useUserTaskDef(run.userTaskDefId);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [checks, setChecks] = useState<Record<string, boolean>>({});
  // the user id typed, else the run's user
  const [userIdEdit, setUserIdEdit] = useState<string | undefined>();
  const userId = userIdEdit ?? run.userId ?? "";
  const [errors, setErrors] = useState<Record<string, string>>({});
  const complete = useMutation({
    mutationFn: (req: { results: Record<string, VariableValue>; userId: string }) =>
      lh.completeUserTaskRun({ userTaskRunId: run.id, ...req }),
    onSettled: () => queries.invalidateQueries({ queryKey: [tenant] }),
  });

  if (!live)
    return complete.error ? (
      <div className="ut-refused">
        <strong>Completing was refused.</strong> <ErrorBox error={complete.error} />
      </div>
    ) : null;
  if (def.error)
    return (
      <>
        <h3>Complete</h3>
        <ErrorBox error={def.error} what={`UserTaskDef '${run.userTaskDefId?.name}'`} />
      </>
    );
  if (!def.data) return <div className="loading">Loading the form…</div>;
  const fields = def.data.fields;

  const clearError = (name: string) => {
    if (errors[name] !== undefined) {
      const rest = { ...errors };
      delete rest[name];
      setErrors(rest);
    }
  };

  const submit = () => {
    const results: Record<string, VariableValue> = {};
    const problems: Record<string, string> = {};
    for (const f of fields) {
      if (f.type === VariableType.BOOL) {
        const parsed = parseValue(f.type, String(checks[f.name] ?? false));
        if (parsed.ok) results[f.name] = parsed.value;
        continue;
      }
      if (f.type === VariableType.BYTES) {
        if (f.required) problems[f.name] = `${labelOf(f)} is required but cannot be entered here.`;
        continue;
      }
      const text = texts[f.name] ?? "";
      if (text.trim() === "") {
        if (f.required) problems[f.name] = `${labelOf(f)} is required.`;
        continue;
      }
      const parsed = parseValue(f.type, text);
      if (parsed.ok) results[f.name] = parsed.value;
      else problems[f.name] = `${labelOf(f)} ${parsed.error}.`;
    }
    const user = userId.trim();
    if (!user && !run.userId) problems[USER_ID] = "The task has no user: give the user id to complete it as.";
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    complete.mutate({ results, userId: user });
  };

  const serverError = complete.error ? describeError(complete.error) : undefined;
  const serverField = serverError ? fieldNamedIn(serverError.message, fields) : undefined;
  const errorOf = (name: string) =>
    errors[name] ??
    (serverError && serverField === name ? `${serverError.code}: ${serverError.message}` : undefined);
  const invalid = Object.keys(errors).length;

  return (
    <>
      <h3>Complete</h3>
      <form
        className="ut-form"
        aria-label="complete the user task"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        {def.data.description && <p className="muted">{def.data.description}</p>}
        {fields.length === 0 && (
          <div className="empty">The UserTaskDef has no fields: complete it as it is.</div>
        )}
        <div className="ut-fields">
          {fields.map((f) => (
            <FieldInput
              key={f.name}
              field={f}
              text={texts[f.name] ?? ""}
              checked={checks[f.name] ?? false}
              error={errorOf(f.name)}
              onText={(t) => {
                setTexts({ ...texts, [f.name]: t });
                clearError(f.name);
              }}
              onChecked={(c) => {
                setChecks({ ...checks, [f.name]: c });
                clearError(f.name);
              }}
            />
          ))}
        </div>
        <div className="ut-submit">
          <div className={`form-field ut-field${errorOf(USER_ID) ? " invalid" : ""}`}>
            <div className="ut-field-head">
              <label htmlFor="ut-complete-user">Complete as user</label>
              <span className="muted ut-field-type">user id{run.userId ? "" : ", required"}</span>
            </div>
            <input
              id="ut-complete-user"
              value={userId}
              placeholder={run.userId ?? "user id"}
              aria-invalid={errorOf(USER_ID) !== undefined}
              onChange={(e) => {
                setUserIdEdit(e.target.value);
                clearError(USER_ID);
              }}
            />
            {errorOf(USER_ID) && <div className="field-error">{errorOf(USER_ID)}</div>}
          </div>
          <button type="submit" className="primary" disabled={complete.isPending}>
            {complete.isPending ? "Completing…" : "Complete"}
          </button>
        </div>
        {invalid > 0 && (
          <div className="field-error" role="alert">
            Nothing was sent: {invalid === 1 ? "one field needs" : `${invalid} fields need`} attention.
          </div>
        )}
        {complete.error && <ErrorBox error={complete.error} />}
      </form>
    </>
  );
}
