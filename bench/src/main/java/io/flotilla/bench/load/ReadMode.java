package io.flotilla.bench.load;

/**
 * The read modes of shared/API.md. etcd has two: linearizable reads stand in for
 * {@link #STRONG} and {@link #FOLLOWER}, serializable ones (answered by the member that got the
 * request, without a quorum round) for {@link #STALE}.
 */
public enum ReadMode {
  STRONG("strong"),
  FOLLOWER("follower"),
  STALE("stale");

  private final String wire;

  ReadMode(String wire) {
    this.wire = wire;
  }

  /** Flotilla's {@code consistency} query parameter. */
  public String wire() {
    return wire;
  }
}
