package io.flotilla.bench.load;

import java.util.random.RandomGenerator;

/**
 * Zipf-distributed ranks in {@code [0, items)}: rank 0 is the most popular, rank r has weight
 * {@code 1 / (r + 1)^theta}. This is the rejection-free algorithm of Gray et al., "Quickly
 * Generating Billion-Record Synthetic Databases" (SIGMOD 1994), as YCSB's
 * {@code ZipfianGenerator} uses it, with YCSB's default skew 0.99. Building one costs O(items)
 * (the zeta sum); drawing is O(1) and thread-safe.
 */
public final class ZipfianGenerator {
  /** YCSB's {@code zipfian_constant}. */
  public static final double YCSB_THETA = 0.99;

  private final long items;
  private final double theta;
  private final double zetan;
  private final double alpha;
  private final double eta;
  private final double halfPowTheta;

  public ZipfianGenerator(long items, double theta) {
    if (items < 1) {
      throw new IllegalArgumentException("a Zipfian distribution needs at least one item");
    }
    if (!(theta > 0 && theta < 1)) {
      throw new IllegalArgumentException("theta must be in (0, 1), got " + theta);
    }
    this.items = items;
    this.theta = theta;
    this.zetan = zeta(items, theta);
    this.alpha = 1.0 / (1.0 - theta);
    double zeta2 = zeta(2, theta);
    this.eta = (1 - Math.pow(2.0 / items, 1 - theta)) / (1 - zeta2 / zetan);
    this.halfPowTheta = 1 + Math.pow(0.5, theta);
  }

  public long items() {
    return items;
  }

  /** The probability of rank r: what {@link #nextRank} should approach, for tests. */
  public double probability(long rank) {
    return 1.0 / Math.pow(rank + 1, theta) / zetan;
  }

  public long nextRank(RandomGenerator random) {
    double u = random.nextDouble();
    double uz = u * zetan;
    if (uz < 1.0) {
      return 0;
    }
    if (uz < halfPowTheta) {
      return Math.min(1, items - 1);
    }
    long rank = (long) (items * Math.pow(eta * u - eta + 1, alpha));
    return Math.min(rank, items - 1);
  }

  private static double zeta(long n, double theta) {
    double sum = 0;
    for (long i = 1; i <= n; i++) {
      sum += 1 / Math.pow(i, theta);
    }
    return sum;
  }
}
