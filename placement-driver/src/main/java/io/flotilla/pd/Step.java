package io.flotilla.pd;

/** One indivisible step of an {@link Operator}; each is a single admin action on one range. */
public sealed interface Step {
  /** Seeds a replica on {@code node} and adds it to the range's group. */
  record AddReplica(String node) implements Step {}

  /** Removes the replica on {@code node} from the group and drops its data. */
  record RemoveReplica(String node) implements Step {}

  /** Hands the range's leadership to {@code node}. */
  record TransferLeader(String node) implements Step {}

  /** Splits the range at its middle key (or its load midpoint, when known). */
  /** Split at {@code at}, or at the middle key when {@code at} is empty. */
  record SplitRange(String why, byte[] at) implements Step {
    public SplitRange {
      at = at == null ? new byte[0] : at;
    }

    public SplitRange(String why) {
      this(why, null);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof SplitRange s && s.why.equals(why) && java.util.Arrays.equals(s.at, at);
    }

    @Override
    public int hashCode() {
      return why.hashCode() * 31 + java.util.Arrays.hashCode(at);
    }
  }

  /** Absorbs the range's right neighbour {@code rightId} into it. */
  record MergeWith(long rightId) implements Step {}
}
