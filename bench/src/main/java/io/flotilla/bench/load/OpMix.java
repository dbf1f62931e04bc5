package io.flotilla.bench.load;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Proportions of operation kinds, such as YCSB A's 50 % reads and 50 % updates. Immutable and
 * thread-safe; {@link #pick} draws one kind with those probabilities.
 */
public final class OpMix {
  private final OpKind[] kinds;
  /** cumulative[i]: the probability of kinds[0..i]; the last entry is 1. */
  private final double[] cumulative;
  private final Map<OpKind, Double> proportions;

  private OpMix(Map<OpKind, Double> proportions) {
    double total = proportions.values().stream().mapToDouble(Double::doubleValue).sum();
    if (proportions.isEmpty() || total <= 0 || proportions.values().stream().anyMatch(p -> p < 0)) {
      throw new IllegalArgumentException("an operation mix needs non-negative proportions with a positive sum");
    }
    List<OpKind> present = new ArrayList<>();
    proportions.forEach((kind, p) -> {
      if (p > 0) {
        present.add(kind);
      }
    });
    kinds = present.toArray(new OpKind[0]);
    cumulative = new double[kinds.length];
    Map<OpKind, Double> normalized = new EnumMap<>(OpKind.class);
    double sum = 0;
    for (int i = 0; i < kinds.length; i++) {
      double p = proportions.get(kinds[i]) / total;
      normalized.put(kinds[i], p);
      sum += p;
      cumulative[i] = sum;
    }
    cumulative[kinds.length - 1] = 1.0;
    this.proportions = Collections.unmodifiableMap(normalized);
  }

  /** Only one kind of operation. */
  public static OpMix only(OpKind kind) {
    return new OpMix(Map.of(kind, 1.0));
  }

  /** Two kinds: {@code first} with probability {@code p}, {@code second} with {@code 1 - p}. */
  public static OpMix of(OpKind first, double p, OpKind second) {
    Map<OpKind, Double> m = new EnumMap<>(OpKind.class);
    m.put(first, p);
    m.put(second, 1 - p);
    return new OpMix(m);
  }

  public OpKind pick(RandomGenerator random) {
    if (kinds.length == 1) {
      return kinds[0];
    }
    double u = random.nextDouble();
    for (int i = 0; i < kinds.length - 1; i++) {
      if (u < cumulative[i]) {
        return kinds[i];
      }
    }
    return kinds[kinds.length - 1];
  }

  /** The normalized proportion of each kind present (summing to 1). */
  public Map<OpKind, Double> proportions() {
    return proportions;
  }

  public boolean contains(OpKind kind) {
    return proportions.containsKey(kind);
  }
}
