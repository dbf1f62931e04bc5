/**
 * {@code bench compare}'s pieces: launchers of fresh clusters on loopback
 * ({@link io.flotilla.bench.compare.FlotillaCluster} through the api module's
 * {@code LocalCluster}, {@link io.flotilla.bench.compare.EtcdCluster} from Debian's etcd 3.4,
 * installed on demand by {@link io.flotilla.bench.compare.EtcdBinary}), and the report: the
 * comparison table, the machine's description and the section of docs/BENCHMARKS.md it replaces.
 * Every process a launcher starts is stopped on close and by a JVM shutdown hook.
 */
package io.flotilla.bench.compare;
