package io.flotilla.client.http;

/** The {@code consistency} of a read (shared/API.md, "Reads: consistency per request"). */
public enum Consistency {
  /** Linearizable, served by the range leader. The server's default. */
  STRONG("strong"),
  /** Linearizable, served by a follower once it caught up to the leader's read index. */
  FOLLOWER("follower"),
  /** Served by a replica without a quorum round trip; may be stale unless a session bounds it. */
  STALE("stale");

  private final String wire;

  Consistency(String wire) {
    this.wire = wire;
  }

  /** The value of the {@code consistency} query parameter. */
  public String wire() {
    return wire;
  }
}
