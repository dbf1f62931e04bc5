/**
 * The load generator shared by every benchmark program: workloads (an {@link
 * io.flotilla.bench.load.OpMix} of operations over keys picked uniformly, Zipfian or latest-first),
 * closed- or open-loop pacing ({@link io.flotilla.bench.load.Pacer}), and per-run results with
 * HdrHistogram latencies ({@link io.flotilla.bench.load.RunResult}).
 *
 * <p>A store is reached through a {@link io.flotilla.bench.load.StoreApi} (Flotilla's HTTP API,
 * or etcd's v3 JSON gateway) over {@link io.flotilla.bench.load.HttpConnection}, a minimal
 * HTTP/1.1 client: each client thread owns one persistent connection per node and uses them in
 * turn, with one request in flight. Every store is driven by the same code, the same key choices
 * and the same random seeds, so a difference in the table is the stores', not the driver's.
 *
 * <p>Guarantees: a request is never retried inside a run (a failure counts once, by cause);
 * latencies count only answered operations; operations due in the warm-up are not counted;
 * open-loop latency runs from the intended send time. No guarantee of a precise rate under
 * overload: slots the clients could not send are reported as errors, not hidden.
 */
package io.flotilla.bench.load;
