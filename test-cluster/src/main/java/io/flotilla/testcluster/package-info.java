/**
 * The test harness for whole clusters: {@link io.flotilla.testcluster.ProcessCluster} starts
 * real node processes (one JVM per node, each on its own loopback address) and
 * {@link io.flotilla.testcluster.ApiClient} speaks shared/API.md to them.
 *
 * <p>Used by the {@code *IT} tests of this module; later by the chaos harness. Never needed at
 * run time. Every process a cluster starts is stopped by {@code close()}, and by a shutdown
 * hook if the test JVM exits first.
 */
package io.flotilla.testcluster;
