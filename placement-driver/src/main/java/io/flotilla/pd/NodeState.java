package io.flotilla.pd;

/** A node as the placement driver sees it. */
public enum NodeState {
  /** Heartbeating: takes new replicas and leaders. */
  UP,
  /**
   * Missed a few heartbeats, not yet long enough to be down: its replicas stay, but it gets no
   * new replicas or leaders (a leadership handed to a dead node stalls the range's writes).
   */
  SUSPECT,
  /** Missed heartbeats for longer than the configured time: its replicas are re-created elsewhere. */
  DOWN,
  /** An operator asked to empty it: its replicas move away, it takes no new ones. */
  DECOMMISSIONING,
  /** Emptied by a decommission: holds nothing, takes nothing. */
  REMOVED;

  /** Whether the node may receive new replicas and leaders. */
  public boolean acceptsReplicas() {
    return this == UP;
  }
}
