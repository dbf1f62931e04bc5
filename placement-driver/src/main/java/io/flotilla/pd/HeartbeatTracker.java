package io.flotilla.pd;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Node liveness from heartbeats, with an injected clock: a node is down once it has not
 * heartbeated for {@code downAfter}. A node never heard from counts from the tracker's start,
 * so a freshly elected placement driver leader does not declare the whole cluster down before
 * the first heartbeats arrive. A node that comes back (heartbeats after a silence, or after it
 * said it was stopping) gets no new replicas or leaders for {@code settleAfter}: a restarted
 * node is still waking its ranges and catching up on their logs, and leaderships moved onto it
 * then stall their ranges' reads and writes. Thread-safe.
 */
public final class HeartbeatTracker {
  private final Clock clock;
  private final Duration downAfter;
  private final Duration suspectAfter;
  private final Duration settleAfter;
  private final long startedAt;
  private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
  /** When a node came back after a silence or a stop; dropped once it has settled. */
  private final Map<String, Long> cameBack = new ConcurrentHashMap<>();
  /** The tracker's own node, whose heartbeats reach it in-process even when it is cut off (may be null). */
  private final String self;
  /** The last heartbeat from any other node. */
  private long lastOther = Long.MIN_VALUE;
  /**
   * The last stretch in which this tracker heard no other node for longer than the suspect time
   * (it was cut off, or not a placement driver member): nodes silent through it did not
   * necessarily go anywhere, so it does not count toward their silence.
   */
  private long deafFrom = Long.MIN_VALUE;
  private long deafUntil = Long.MIN_VALUE;
  /**
   * Nodes that said they are shutting down, with when, until they heartbeat as usual again,
   * later than {@link #STOPPING_HOLD_MILLIS} after: an ordinary heartbeat sent before the last
   * one and delivered after it must not mark the node up again, and a restart takes longer.
   */
  private final Map<String, Long> stopping = new ConcurrentHashMap<>();
  static final long STOPPING_HOLD_MILLIS = 3_000;

  /**
   * @param self the node this tracker runs on (null if none): its own heartbeats say nothing of the network
   * @param suspectAfter silence after which a node gets no new replicas or leaders (shorter than downAfter)
   * @param settleAfter how long a node that came back gets no new replicas or leaders
   */
  public HeartbeatTracker(Clock clock, String self, Duration suspectAfter, Duration downAfter, Duration settleAfter) {
    this.clock = clock;
    this.self = self;
    this.suspectAfter = suspectAfter;
    this.downAfter = downAfter;
    this.settleAfter = settleAfter;
    this.startedAt = clock.millis();
  }

  public void heartbeat(String node) {
    long now = clock.millis();
    Long before;
    long deaf;
    synchronized (this) {
      if (!node.equals(self)) {
        if (lastOther != Long.MIN_VALUE && now - lastOther > suspectAfter.toMillis()) {
          deafFrom = lastOther;
          deafUntil = now;
        }
        lastOther = now;
      }
      before = lastSeen.put(node, now);
      // The part of the node's silence when this tracker heard no one else does not count.
      deaf = before == null ? 0 : Math.max(0, Math.min(now, deafUntil) - Math.max(before, deafFrom));
    }
    // A node this tracker never heard of is new, or was up before this placement driver leader.
    boolean wasSilent = before != null && now - before - deaf > suspectAfter.toMillis();
    boolean wasStopping = stopping.containsKey(node);
    stopping.computeIfPresent(node, (n, since) -> now - since > STOPPING_HOLD_MILLIS ? null : since);
    if (wasSilent || (wasStopping && !stopping.containsKey(node))) {
      cameBack.put(node, now);
    }
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
    long now = clock.millis();
    long silent = now - lastSeen.getOrDefault(node, startedAt);
    boolean suspect = silent > suspectAfter.toMillis() || stopping.containsKey(node) || settling(node, now);
    return suspect && declared == NodeState.UP ? NodeState.SUSPECT : declared;
  }

  private boolean settling(String node, long now) {
    Long since = cameBack.get(node);
    if (since == null) {
      return false;
    }
    if (now - since < settleAfter.toMillis()) {
      return true;
    }
    cameBack.remove(node, since);
    return false;
  }
}
