package io.flotilla.statemachine;

/** Seeds for randomized tests: printed, and replayable with {@code -Dflotilla.seed=N}. */
final class Seeds {
  private Seeds() {}

  /** The seed to use (the replay one if given), after printing how to replay it. */
  static long announce(Class<?> test) {
    long seed = Long.getLong("flotilla.seed", System.nanoTime());
    System.out.println(test.getSimpleName() + ": " + describe(seed));
    return seed;
  }

  static String describe(long seed) {
    return "seed " + seed + " (replay with -Dflotilla.seed=" + seed + ")";
  }
}
