package io.flotilla.pd;

/** A node as the placement driver sees it. */
public enum NodeState {
  /** Heartbeating: takes new replicas and leaders. */
  UP,
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
