package io.flotilla.api.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Calls are counted per range, kind and outcome, and their latencies rendered as a Prometheus histogram. */
class RangeMetricsTest {
  @Test
  void callsAreCountedByRangeKindAndOutcome() {
    RangeMetrics metrics = new RangeMetrics(RangeMetrics.Detail.ALL);
    metrics.track(3, RangeMetrics.Kind.WRITE, CompletableFuture.completedFuture("applied"), "refused"::equals);
    metrics.track(3, RangeMetrics.Kind.WRITE, CompletableFuture.completedFuture("refused"), "refused"::equals);
    metrics.track(3, RangeMetrics.Kind.READ, CompletableFuture.failedFuture(new IllegalStateException("down")),
        r -> false);
    CompletableFuture<String> pending = new CompletableFuture<>();
    metrics.track(4, RangeMetrics.Kind.READ, pending, r -> false);

    assertEquals(1, metrics.calls(3, RangeMetrics.Kind.WRITE).ok.sum());
    assertEquals(1, metrics.calls(3, RangeMetrics.Kind.WRITE).rejected.sum());
    assertEquals(1, metrics.calls(3, RangeMetrics.Kind.READ).failed.sum());
    assertEquals(0, metrics.calls(4, RangeMetrics.Kind.READ).count(), "counted when it completes");
    pending.complete("value");
    assertEquals(1, metrics.calls(4, RangeMetrics.Kind.READ).ok.sum());
  }

  @Test
  void latenciesRenderAsACumulativeHistogram() {
    RangeMetrics metrics = new RangeMetrics(RangeMetrics.Detail.ALL);
    for (int i = 0; i < 5; i++) {
      metrics.track(7, RangeMetrics.Kind.WRITE, CompletableFuture.completedFuture(i), r -> false);
    }
    StringBuilder page = new StringBuilder();
    metrics.renderCalls(page);
    String text = page.toString();
    assertTrue(text.contains("flotilla_range_requests_total{range=\"7\",kind=\"write\",outcome=\"ok\"} 5\n"), text);
    assertTrue(text.contains("flotilla_range_request_seconds_count{range=\"7\",kind=\"write\"} 5\n"), text);
    assertTrue(text.contains("flotilla_range_request_seconds_bucket{range=\"7\",kind=\"write\",le=\"+Inf\"} 5\n"), text);
    assertTrue(!text.contains("kind=\"read\""), "no reads, no read samples: " + text);
    List<Long> buckets = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("flotilla_range_request_seconds_bucket{range=\"7\"")) {
        buckets.add(Long.parseLong(line.substring(line.lastIndexOf(' ') + 1)));
      }
    }
    assertEquals(RangeMetrics.BUCKETS.length + 1, buckets.size(), text);
    for (int i = 1; i < buckets.size(); i++) {
      assertTrue(buckets.get(i) >= buckets.get(i - 1), "cumulative: " + buckets);
    }
  }

  @Test
  void countsDetailDropsTheHistogramsAndNoneCountsNothing() {
    RangeMetrics counts = new RangeMetrics(RangeMetrics.Detail.COUNTS);
    counts.track(7, RangeMetrics.Kind.WRITE, CompletableFuture.completedFuture(1), r -> false);
    StringBuilder page = new StringBuilder();
    counts.renderCalls(page);
    String text = page.toString();
    assertTrue(text.contains("flotilla_range_requests_total{range=\"7\",kind=\"write\",outcome=\"ok\"} 1\n"), text);
    assertTrue(!text.contains("flotilla_range_request_seconds"), "no histogram: " + text);

    RangeMetrics none = new RangeMetrics(RangeMetrics.Detail.NONE);
    CompletableFuture<Integer> call = CompletableFuture.completedFuture(1);
    assertTrue(none.track(7, RangeMetrics.Kind.WRITE, call, r -> false) == call, "the call itself, untracked");
    assertEquals(null, none.calls(7, RangeMetrics.Kind.WRITE));
    StringBuilder empty = new StringBuilder();
    none.render(empty, null);
    assertEquals("", empty.toString());
  }
}
