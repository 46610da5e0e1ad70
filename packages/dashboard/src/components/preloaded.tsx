/**
 * A component from a module loaded in the background: the graph (elkjs, xyflow) and the charts (recharts)
 * are most of the dashboard's code, so the first bundle leaves them out and the app starts loading them as
 * soon as it has started. A page that draws one before it has arrived shows `fallback` until then (without
 * Suspense, whose reveal React throttles by up to 300 ms).
 */
import { useEffect, useState, type ComponentType, type ReactNode } from "react";

export function preloaded<M, P extends object>(
  load: () => Promise<M>,
  pick: (m: M) => ComponentType<P>,
  fallback: ReactNode,
): ComponentType<P> & { preload: () => Promise<M> } {
  let loaded: M | undefined;
  let loading: Promise<M> | undefined;
  const preload = () =>
    (loading ??= load().then((m) => {
      loaded = m;
      return m;
    }));
  function Preloaded(props: P) {
    const [module, setModule] = useState<M | undefined>(loaded);
    useEffect(() => {
      if (module) return;
      let live = true;
      void preload().then((m) => live && setModule(m));
      return () => {
        live = false;
      };
    }, [module]);
    if (!module) return <>{fallback}</>;
    const Component = pick(module);
    return <Component {...props} />;
  }
  return Object.assign(Preloaded, { preload });
}
