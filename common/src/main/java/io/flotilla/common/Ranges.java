package io.flotilla.common;

import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;

/** Small, pure helpers over {@link RangeDescriptor}. */
public final class Ranges {
  private Ranges() {}

  public static boolean contains(RangeDescriptor range, byte[] key) {
    return Keys.inSpan(key, range.getStart().toByteArray(), range.getEnd().toByteArray());
  }

  /** True when [start, end) and the range overlap; empty end = +infinity. */
  public static boolean overlaps(RangeDescriptor range, byte[] start, byte[] end) {
    byte[] rs = range.getStart().toByteArray();
    byte[] re = range.getEnd().toByteArray();
    boolean startsBeforeRangeEnds = re.length == 0 || Keys.compare(start, re) < 0;
    boolean endsAfterRangeStarts = end.length == 0 || Keys.compare(end, rs) > 0;
    return startsBeforeRangeEnds && endsAfterRangeStarts;
  }

  public static String epochString(RangeEpoch e) {
    return e.getVersion() + "." + e.getConf();
  }

  public static String describe(RangeDescriptor r) {
    return "range " + r.getId() + " [" + printable(r.getStart().toByteArray()) + ", "
        + (r.getEnd().isEmpty() ? "+inf" : printable(r.getEnd().toByteArray())) + ") epoch "
        + epochString(r.getEpoch());
  }

  private static String printable(byte[] key) {
    return key.length == 0 ? "-inf" : new String(key, java.nio.charset.StandardCharsets.UTF_8);
  }
}
