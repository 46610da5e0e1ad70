import { Link } from "react-router";
import { describeError, isNotFound } from "../api/client";

/** A failed call as the user should see it: the status code and the server's own message. */
export function ErrorBox({ error, what }: { error: unknown; what?: string }) {
  const { code, message } = describeError(error);
  return (
    <div className="error-box" role="alert">
      <strong>{code}</strong>
      {what ? ` while loading ${what}` : ""}: {message}
    </div>
  );
}

/** The page of an object that does not exist (or a path that names nothing). */
export function NotFound({ what }: { what: string }) {
  return (
    <div className="not-found">
      <h1>Not found</h1>
      <p>{what} does not exist in this tenant.</p>
      <p>
        <Link to="/">Back to the home page</Link>
      </p>
    </div>
  );
}

/** Loading, an error, a not-found page, or the content. */
export function Loaded<T>({
  query,
  what,
  children,
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean };
  what: string;
  children: (data: T) => React.ReactNode;
}) {
  if (query.error)
    return isNotFound(query.error) ? <NotFound what={what} /> : <ErrorBox error={query.error} what={what} />;
  if (query.isPending || query.data === undefined) return <div className="loading">Loading {what}…</div>;
  return <>{children(query.data)}</>;
}
