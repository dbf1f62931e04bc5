package io.flotilla.raft;

import io.flotilla.proto.RangeDescriptor;

/**
 * What a replica tells its node about range changes it applied. Called on the range's apply
 * thread: implementations must return at once and do any Raft group work asynchronously.
 */
interface RangeEvents {
  /** The replica holds this descriptor now (loaded, installed, or changed by a command). */
  void descriptor(RangeDescriptor range);

  /** A split created this range from the replica's span; its data is already in the engine. */
  void created(RangeDescriptor range);

  /** The replica's range absorbed this (frozen) right neighbour. */
  void absorbed(RangeDescriptor range);

  /**
   * The ranges of the node's other replicas: installing a snapshot never clears their data,
   * whatever stale descriptor of its own range the node stored before.
   */
  java.util.List<RangeDescriptor> otherReplicas(long rangeId);

  /** The replica learned that {@code nodeId} leads the range now. */
  default void leader(long rangeId, String nodeId) {
  }

  /** This node's replica leads the range but lacks data merged in while it was copied: hand over. */
  default void leaderLacksData(long rangeId) {
  }
}
