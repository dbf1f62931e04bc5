/**
 * Load generators for Flotilla: programs that drive a running cluster and print a table of
 * throughput and latency percentiles. Speed targets live here, never in timed unit tests.
 * Not needed at run time.
 */
package io.flotilla.bench;
