package io.flotilla.api.service;

import io.flotilla.proto.RangeDescriptor;
import io.flotilla.raft.NodeHost;
import io.flotilla.raft.RangeStateMachine;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import org.apache.ratis.server.protocol.TermIndex;

/**
 * Per-range metrics of one node, in Prometheus's text format with a {@code range} label: the
 * reads and writes this node carried out on each range (counts by outcome, and a latency
 * histogram, from the node's call to the range's replica until its answer: forwarding, the Raft
 * round and the apply included, the HTTP request around it not), and the state of each replica
 * the node hosts (revision, applied index, leader or not, asleep or not, approximate size).
 *
 * <p>Counting costs a few {@link LongAdder} increments per call. A range the node neither hosts
 * nor routes to any more (merged away) is dropped at the next scrape.
 *
 * <p>Each range costs a scraper up to 41 series (5 gauges, 6 counters, 2 histograms of 13
 * buckets, a sum and a count each); {@link Detail} trims that on nodes with many ranges.
 */
public final class RangeMetrics {
  /** What a call did to the range. */
  public enum Kind { READ, WRITE }

  /** How much a node reports per range (node setting {@code perRangeMetrics}). */
  public enum Detail {
    /** Replica gauges, call counts by outcome, and the latency histograms. */
    ALL,
    /** Replica gauges and call counts, no histograms: 11 series a range. */
    COUNTS,
    /** Nothing per range; calls are not counted at all. */
    NONE
  }

  /** Upper bounds of the latency buckets, in seconds (Prometheus's {@code le}); +Inf follows. */
  static final double[] BUCKETS = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};
  private static final long[] BUCKET_NANOS = new long[BUCKETS.length];

  static {
    for (int i = 0; i < BUCKETS.length; i++) {
      BUCKET_NANOS[i] = (long) (BUCKETS[i] * 1e9);
    }
  }

  private final Map<Long, Calls[]> calls = new ConcurrentHashMap<>();
  private final Detail detail;

  public RangeMetrics(Detail detail) {
    this.detail = java.util.Objects.requireNonNull(detail, "detail");
  }

  /** One range's calls of one kind. */
  static final class Calls {
    final LongAdder ok = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder nanos = new LongAdder();
    final LongAdder[] buckets = new LongAdder[BUCKETS.length];

    Calls() {
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new LongAdder();
      }
    }

    void record(long elapsedNanos, Outcome outcome) {
      (outcome == Outcome.OK ? ok : outcome == Outcome.REJECTED ? rejected : failed).increment();
      nanos.add(elapsedNanos);
      for (int i = 0; i < BUCKET_NANOS.length; i++) {
        if (elapsedNanos <= BUCKET_NANOS[i]) {
          buckets[i].increment();
          break; // cumulated when rendered
        }
      }
    }

    long count() {
      return ok.sum() + rejected.sum() + failed.sum();
    }
  }

  /** How a call ended: answered, answered with a refusal (a failed condition, stale routing), or failed. */
  enum Outcome { OK, REJECTED, FAILED }

  /**
   * Counts {@code call} against {@code rangeId} when it completes, from now on; {@code refused}
   * tells a result that carries a refusal. Returns a future completing as {@code call} does.
   */
  public <T> CompletableFuture<T> track(long rangeId, Kind kind, CompletableFuture<T> call, Predicate<T> refused) {
    if (detail == Detail.NONE) {
      return call;
    }
    long started = System.nanoTime();
    Calls c = calls.computeIfAbsent(rangeId, id -> new Calls[] {new Calls(), new Calls()})[kind.ordinal()];
    return call.whenComplete((result, error) -> {
      Outcome outcome;
      try {
        outcome = error != null ? Outcome.FAILED : refused.test(result) ? Outcome.REJECTED : Outcome.OK;
      } catch (RuntimeException e) {
        outcome = Outcome.FAILED; // counting never fails the call
      }
      c.record(System.nanoTime() - started, outcome);
    });
  }

  /** The calls of one range and kind counted so far (tests). */
  Calls calls(long rangeId, Kind kind) {
    Calls[] both = calls.get(rangeId);
    return both == null ? null : both[kind.ordinal()];
  }

  /** Appends the per-range families for this node to a Prometheus text page. */
  public void render(StringBuilder out, NodeHost host) {
    if (detail == Detail.NONE) {
      return;
    }
    calls.keySet().removeIf(id -> host.replica(id).isEmpty() && host.routing().byId(id).isEmpty());
    renderCalls(out);
    Map<String, StringBuilder> gauges = new LinkedHashMap<>();
    for (long id : host.hostedRanges()) {
      Optional<RangeStateMachine> replica = host.replica(id);
      RangeDescriptor range = replica.map(RangeStateMachine::descriptor).orElse(null);
      if (range == null) {
        continue;
      }
      long revision;
      long appliedIndex;
      boolean leads;
      boolean asleep;
      long bytes;
      try {
        TermIndex applied = replica.get().getLastAppliedTermIndex();
        revision = replica.get().revision();
        appliedIndex = applied == null ? 0 : applied.getIndex();
        leads = host.leads(id);
        asleep = host.asleep(id);
        bytes = host.engine().approximateSize(range.getStart().toByteArray(), range.getEnd().toByteArray());
      } catch (RuntimeException e) {
        continue; // the replica is leaving, or the node stopping: one range must not fail the page
      }
      String label = "{range=\"" + id + "\"} ";
      gauge(gauges, "revision", label, revision);
      gauge(gauges, "applied_index", label, appliedIndex);
      gauge(gauges, "leader", label, leads ? 1 : 0);
      gauge(gauges, "asleep", label, asleep ? 1 : 0);
      gauge(gauges, "approximate_bytes", label, bytes);
    }
    gauges.forEach((name, samples) -> out.append("# TYPE ").append(name).append(" gauge\n").append(samples));
  }

  private static void gauge(Map<String, StringBuilder> gauges, String name, String label, long value) {
    String family = "flotilla_range_" + name;
    gauges.computeIfAbsent(family, f -> new StringBuilder()).append(family).append(label).append(value).append('\n');
  }

  void renderCalls(StringBuilder out) {
    if (calls.isEmpty()) {
      return;
    }
    StringBuilder counts = new StringBuilder("# TYPE flotilla_range_requests_total counter\n");
    boolean histograms = detail == Detail.ALL;
    StringBuilder latency = new StringBuilder(histograms ? "# TYPE flotilla_range_request_seconds histogram\n" : "");
    calls.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      for (Kind kind : Kind.values()) {
        Calls c = e.getValue()[kind.ordinal()];
        long total = c.count();
        if (total == 0) {
          continue;
        }
        String labels = "range=\"" + e.getKey() + "\",kind=\"" + kind.name().toLowerCase(java.util.Locale.ROOT) + "\"";
        counts.append("flotilla_range_requests_total{").append(labels).append(",outcome=\"ok\"} ").append(c.ok.sum()).append('\n');
        counts.append("flotilla_range_requests_total{").append(labels).append(",outcome=\"rejected\"} ")
            .append(c.rejected.sum()).append('\n');
        counts.append("flotilla_range_requests_total{").append(labels).append(",outcome=\"failed\"} ")
            .append(c.failed.sum()).append('\n');
        if (!histograms) {
          continue;
        }
        long cumulated = 0;
        for (int i = 0; i < BUCKETS.length; i++) {
          cumulated += c.buckets[i].sum();
          latency.append("flotilla_range_request_seconds_bucket{").append(labels).append(",le=\"").append(BUCKETS[i])
              .append("\"} ").append(cumulated).append('\n');
        }
        total = Math.max(total, cumulated); // counted while calls completed
        latency.append("flotilla_range_request_seconds_bucket{").append(labels).append(",le=\"+Inf\"} ").append(total).append('\n');
        latency.append("flotilla_range_request_seconds_sum{").append(labels).append("} ")
            .append(String.format(java.util.Locale.ROOT, "%.6f", c.nanos.sum() / 1e9)).append('\n');
        latency.append("flotilla_range_request_seconds_count{").append(labels).append("} ").append(total).append('\n');
      }
    });
    out.append(counts).append(latency);
  }
}
