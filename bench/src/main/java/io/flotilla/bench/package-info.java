/**
 * Benchmarks of Flotilla: programs that print tables, never timed tests. Run through
 * {@code bin/flotilla bench <program>}; nothing here is needed at run time.
 *
 * <ul>
 *   <li>{@code compare} ({@link io.flotilla.bench.CompareMain}): fresh 3-node Flotilla and
 *       3-member etcd clusters on loopback, the same workloads against each in turn, one table
 *       written into docs/BENCHMARKS.md.
 *   <li>{@code load} ({@link io.flotilla.bench.LoadMain}): the same generator against a running
 *       cluster (Flotilla or etcd).
 *   <li>{@code jmh}: microbenchmarks of the hot paths ({@code io.flotilla.bench.jmh}).
 *   <li>{@code ycsb}: YCSB's own client with the Flotilla binding ({@code io.flotilla.bench.ycsb}).
 *   <li>{@code ops-impact} and {@code pd-sim}: what range operations cost clients, and the
 *       placement planner at scale.
 * </ul>
 *
 * <p>The generator lives in {@code io.flotilla.bench.load}, the cluster launchers and the report
 * in {@code io.flotilla.bench.compare}. Each program runs on its main thread plus its client
 * threads, and stops every process it started, also when it fails or is interrupted.
 */
package io.flotilla.bench;
