/**
 * A page's filters live in its URL (a link shows the same view). `update` changes some of them, each from
 * the URL as it is when the change applies, so two changes in a row both land.
 *
 * react-router's functional `setSearchParams(prev => …)` hands `prev` from the last render, not from the
 * URL, and the router renders navigations in a transition, so a second change made before that render
 * (clear one filter, then type in the next) would start from the stale params and undo the first. The
 * browser's own location is updated synchronously by each navigation, so every change starts from it.
 */
import { useSearchParams } from "react-router";

export type ParamChanges = Record<string, string | undefined>;

export function useUrlParams(): [
  URLSearchParams,
  (changes: ParamChanges, opts?: { push?: boolean }) => void,
] {
  const [params, setParams] = useSearchParams();
  const update = (changes: ParamChanges, opts: { push?: boolean } = {}) => {
    const p = new URLSearchParams(window.location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === "") p.delete(k);
      else p.set(k, v);
    }
    setParams(p, { replace: !opts.push });
  };
  return [params, update];
}
