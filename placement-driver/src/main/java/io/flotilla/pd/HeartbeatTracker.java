package io.flotilla.pd;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Node liveness from heartbeats, with an injected clock: a node is down once it has not
 * heartbeated for {@code downAfter}. A node never heard from counts from the tracker's start,
 * so a freshly elected placement driver leader does not declare the whole cluster down before
 * the first heartbeats arrive. Thread-safe.
 */
public final class HeartbeatTracker {
  private final Clock clock;
  private final Duration downAfter;
  private final Duration suspectAfter;
  private final long startedAt;
  private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
  /**
   * Nodes that said they are shutting down, with when, until they heartbeat as usual again,
   * later than {@link #STOPPING_HOLD_MILLIS} after: an ordinary heartbeat sent before the last
   * one and delivered after it must not mark the node up again, and a restart takes longer.
   */
  private final Map<String, Long> stopping = new ConcurrentHashMap<>();
  static final long STOPPING_HOLD_MILLIS = 3_000;

  /** @param suspectAfter silence after which a node gets no new replicas or leaders (shorter than downAfter) */
  public HeartbeatTracker(Clock clock, Duration suspectAfter, Duration downAfter) {
    this.clock = clock;
    this.suspectAfter = suspectAfter;
    this.downAfter = downAfter;
    this.startedAt = clock.millis();
  }

  public void heartbeat(String node) {
    long now = clock.millis();
    lastSeen.put(node, now);
    stopping.computeIfPresent(node, (n, since) -> now - since > STOPPING_HOLD_MILLIS ? null : since);
  }

  /**
   * A node's last heartbeat before it shuts down: it counts as {@link NodeState#SUSPECT} (no new
   * replicas or leaders, a leadership handed to it would stall the range as it closes) until it
   * heartbeats as usual again, and is down after the usual silence.
   */
  public void stopping(String node) {
    long now = clock.millis();
    lastSeen.put(node, now);
    stopping.put(node, now);
  }

  /** True when the node's last heartbeat said it is shutting down. */
  public boolean isStopping(String node) {
    return stopping.containsKey(node);
  }

  public boolean isDown(String node) {
    long seen = lastSeen.getOrDefault(node, startedAt);
    return clock.millis() - seen > downAfter.toMillis();
  }

  /** The state a node has for planning, given the state an operator declared for it. */
  public NodeState state(String node, NodeState declared) {
    if (declared == NodeState.REMOVED) {
      return NodeState.REMOVED;
    }
    if (isDown(node)) {
      return NodeState.DOWN;
    }
    long silent = clock.millis() - lastSeen.getOrDefault(node, startedAt);
    boolean suspect = silent > suspectAfter.toMillis() || stopping.containsKey(node);
    return suspect && declared == NodeState.UP ? NodeState.SUSPECT : declared;
  }
}
