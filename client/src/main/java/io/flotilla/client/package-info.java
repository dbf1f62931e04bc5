/**
 * Reaching ranges: the routing table (key -> range -> replicas) and {@link
 * io.flotilla.client.RangeClient}, the long-lived Ratis client of one range group that finds the
 * leader, follows NotLeader redirects and retries with a bounded, backed-off policy.
 *
 * <p>Used by every node's API layer to forward requests to range leaders, and by the Java SDK.
 * All calls are asynchronous; nothing here blocks a caller's thread on the network.
 *
 * <p>Guarantee: a write whose outcome cannot be known (retries exhausted, timeout) fails with
 * {@link io.flotilla.common.ErrorCode#TIMEOUT} "outcome unknown", never with a definite error.
 * Retries of one write from one {@code RangeClient} carry the same client id and call id, so
 * the leader's retry cache applies it at most once.
 */
package io.flotilla.client;
