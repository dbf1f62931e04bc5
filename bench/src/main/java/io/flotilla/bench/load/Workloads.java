package io.flotilla.bench.load;

import io.flotilla.client.http.Consistency;
import java.util.ArrayList;
import java.util.List;

/**
 * The named workloads. The single-operation ones ({@code put}, {@code get-strong},
 * {@code get-follower}, {@code get-stale}, {@code scan}) pick keys with the distribution the
 * caller chooses; the YCSB core workloads keep their own, as YCSB's workload files define them:
 *
 * <pre>
 * ycsb-a  update heavy       50 % read, 50 % update          zipfian
 * ycsb-b  read mostly        95 % read,  5 % update          zipfian
 * ycsb-c  read only         100 % read                       zipfian
 * ycsb-d  read latest        95 % read,  5 % insert          latest
 * ycsb-e  short ranges       95 % scan (1-100 keys), 5 % insert  zipfian
 * ycsb-f  read-modify-write  50 % read, 50 % read-modify-write   zipfian
 * </pre>
 *
 * YCSB's reads are strong (linearizable) here, the default of both stores.
 */
public final class Workloads {
  /** Every name {@link #parse} accepts, in a sensible running order. */
  public static final List<String> NAMES = List.of("put", "get-strong", "get-follower", "get-stale", "scan",
      "ycsb-a", "ycsb-b", "ycsb-c", "ycsb-d", "ycsb-e", "ycsb-f");

  private Workloads() {}

  /**
   * The workload called {@code name}.
   *
   * @param distribution how the single-operation workloads pick keys
   */
  public static Workload parse(String name, KeyDistribution distribution) {
    return switch (name) {
      case "put" -> simple(name, OpMix.only(OpKind.UPDATE), distribution, Consistency.STRONG);
      case "get", "get-strong" -> simple("get-strong", OpMix.only(OpKind.READ), distribution, Consistency.STRONG);
      case "get-follower" -> simple(name, OpMix.only(OpKind.READ), distribution, Consistency.FOLLOWER);
      case "get-stale" -> simple(name, OpMix.only(OpKind.READ), distribution, Consistency.STALE);
      case "scan" -> new Workload(name, OpMix.only(OpKind.SCAN), distribution, Consistency.STRONG, 10, 100);
      case "ycsb-a" -> ycsb(name, OpMix.of(OpKind.READ, 0.5, OpKind.UPDATE), KeyDistribution.ZIPFIAN);
      case "ycsb-b" -> ycsb(name, OpMix.of(OpKind.READ, 0.95, OpKind.UPDATE), KeyDistribution.ZIPFIAN);
      case "ycsb-c" -> ycsb(name, OpMix.only(OpKind.READ), KeyDistribution.ZIPFIAN);
      case "ycsb-d" -> ycsb(name, OpMix.of(OpKind.READ, 0.95, OpKind.INSERT), KeyDistribution.LATEST);
      case "ycsb-e" -> ycsb(name, OpMix.of(OpKind.SCAN, 0.95, OpKind.INSERT), KeyDistribution.ZIPFIAN);
      case "ycsb-f" -> ycsb(name, OpMix.of(OpKind.READ, 0.5, OpKind.READ_MODIFY_WRITE), KeyDistribution.ZIPFIAN);
      default -> throw new IllegalArgumentException("unknown workload '" + name + "': use one of "
          + String.join(", ", NAMES));
    };
  }

  /** Parses every name, so a typo fails before any cluster starts. */
  public static List<Workload> parseAll(List<String> names, KeyDistribution distribution) {
    List<Workload> workloads = new ArrayList<>();
    for (String name : names) {
      workloads.add(parse(name.trim(), distribution));
    }
    return workloads;
  }

  private static Workload simple(String name, OpMix mix, KeyDistribution distribution, Consistency mode) {
    return new Workload(name, mix, distribution, mode, 1, 1);
  }

  /** YCSB's scans are 1 to 100 keys long, uniformly ({@code maxscanlength=100}). */
  private static Workload ycsb(String name, OpMix mix, KeyDistribution distribution) {
    return new Workload(name, mix, distribution, Consistency.STRONG, 1, 100);
  }
}
