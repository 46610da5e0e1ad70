/**
 * A page's filters live in its URL (a link shows the same view). `update` changes some of them, each from
 * the URL as it is when the change applies, so two changes in a row (one event after another, before React
 * renders again) both land.
 */
import { useSearchParams } from "react-router";

export type ParamChanges = Record<string, string | undefined>;

export function useUrlParams(): [
  URLSearchParams,
  (changes: ParamChanges, opts?: { push?: boolean }) => void,
] {
  const [params, setParams] = useSearchParams();
  const update = (changes: ParamChanges, opts: { push?: boolean } = {}) =>
    setParams(
      (prev) => {
        const p = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) {
          if (v === undefined || v === "") p.delete(k);
          else p.set(k, v);
        }
        return p;
      },
      { replace: !opts.push },
    );
  return [params, update];
}
