package io.flotilla.pd;

import java.util.List;

/** Splits a range that grew too large (bytes or keys) or too hot (writes per second). */
public final class SplitChecker {
  private SplitChecker() {}

  static Operator check(RangeView range, PlacementConfig config) {
    String why = null;
    if (range.approximateBytes() > config.splitBytes()) {
      why = "size " + range.approximateBytes() + " B > " + config.splitBytes() + " B";
    } else if (range.keys() > config.splitKeys()) {
      why = range.keys() + " keys > " + config.splitKeys();
    } else if (range.writesPerSecond() > config.splitWritesPerSecond() && range.loadSplitKey().length > 0) {
      // Split where the writes divide: each half takes about half the load. A range whose
      // writes all hit one key reports no such key; splitting it would not spread anything.
      why = "hot: " + Math.round(range.writesPerSecond()) + " writes/s > " + Math.round(config.splitWritesPerSecond())
          + "; split at its load midpoint";
      return new Operator(range.id(), "split", Operator.Priority.SPLIT_MERGE,
          List.of(new Step.SplitRange(why, range.loadSplitKey())), why);
    }
    return why == null ? null : new Operator(range.id(), "split", Operator.Priority.SPLIT_MERGE,
        List.of(new Step.SplitRange(why)), why);
  }
}
