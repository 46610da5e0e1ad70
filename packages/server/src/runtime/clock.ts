/**
 * The server's clock: epoch milliseconds to the microsecond, following the wall clock.
 *
 * `performance.timeOrigin + performance.now()` is the wall clock at process start plus a monotonic
 * high-resolution count, so it reads sub-millisecond time that other processes of the machine read the same
 * way (within a few µs). Should the wall clock be stepped (NTP, a resumed VM), the origin follows it, so
 * timestamps never stray from `Date.now()` by more than a couple of milliseconds.
 */
let origin = performance.timeOrigin;

export function preciseNowMs(): number {
  const mono = performance.now();
  const wall = Date.now();
  let t = origin + mono;
  if (t < wall - 2 || t > wall + 2) {
    origin = wall - mono;
    t = wall;
  }
  return Math.round(t * 1000) / 1000;
}
