package io.flotilla.bench.load;

import java.util.random.RandomGenerator;

/**
 * How operations pick existing keys: the choices of YCSB's {@code requestdistribution}.
 * {@link #ZIPFIAN} scatters the popular ranks over the key space (YCSB's "scrambled" Zipfian),
 * {@link #LATEST} favours the most recently inserted keys (YCSB workload D).
 */
public enum KeyDistribution {
  UNIFORM,
  ZIPFIAN,
  LATEST;

  /** Parses a command-line name: uniform, zipfian or latest. */
  public static KeyDistribution parse(String name) {
    for (KeyDistribution d : values()) {
      if (d.name().equalsIgnoreCase(name)) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown key distribution '" + name + "': use uniform, zipfian or latest");
  }

  public KeyChooser over(KeySpace keys) {
    long n = keys.initialKeys();
    return switch (this) {
      case UNIFORM -> random -> random.nextLong(n);
      case ZIPFIAN -> new ScrambledZipfian(n);
      case LATEST -> new LatestKeys(keys);
    };
  }

  /**
   * Zipfian ranks mapped onto key numbers by the bijection {@code rank * P mod n}, P a prime
   * larger than any key count (so coprime with it), so the hot keys are spread out (and so over ranges) instead of
   * being the first few numbers. Unlike YCSB's hash-then-modulo, no two ranks share a key, so
   * the distribution over keys is exactly the Zipfian one.
   */
  static final class ScrambledZipfian implements KeyChooser {
    /** Knuth's multiplicative-hash prime. */
    private static final long PRIME = 2_654_435_761L;

    private final ZipfianGenerator ranks;
    private final long n;

    ScrambledZipfian(long n) {
      if (n > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("a Zipfian key space holds at most " + Integer.MAX_VALUE + " keys");
      }
      this.n = n;
      this.ranks = new ZipfianGenerator(n, ZipfianGenerator.YCSB_THETA);
    }

    @Override
    public long next(RandomGenerator random) {
      return keyOfRank(ranks.nextRank(random), n);
    }

    /** Both factors are below n <= 2^31, so the product cannot overflow. */
    static long keyOfRank(long rank, long n) {
      return rank * (PRIME % n) % n;
    }
  }

  /**
   * YCSB's "latest": a Zipfian rank counted back from the newest claimed key, so the keys just
   * inserted are the most read. A key whose insert is still in flight may be picked and read as
   * missing; both stores see the same effect.
   */
  static final class LatestKeys implements KeyChooser {
    private final KeySpace keys;
    private final ZipfianGenerator ranks;

    LatestKeys(KeySpace keys) {
      this.keys = keys;
      this.ranks = new ZipfianGenerator(keys.initialKeys(), ZipfianGenerator.YCSB_THETA);
    }

    @Override
    public long next(RandomGenerator random) {
      return Math.max(0, keys.claimed() - 1 - ranks.nextRank(random));
    }
  }
}
