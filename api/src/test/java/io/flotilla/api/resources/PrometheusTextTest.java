package io.flotilla.api.resources;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.codahale.metrics.MetricRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {
  @Test
  void timersBecomeSummariesInSecondsAndNamesAreSanitized() {
    MetricRegistry registry = new MetricRegistry();
    registry.timer("flotilla.requests.put").update(2, TimeUnit.MILLISECONDS);
    registry.meter("flotilla.errors.put.timeout").mark(3);
    registry.counter("jvm.threads-count").inc(5);
    String text = PrometheusText.render(registry).toString();
    assertTrue(text.contains("# TYPE flotilla_requests_put_seconds summary"), text);
    assertTrue(text.contains("flotilla_requests_put_seconds_count 1"), text);
    assertTrue(text.contains("flotilla_requests_put_seconds{quantile=\"0.99\"} 0.002"), text);
    assertTrue(text.contains("flotilla_errors_put_timeout_total 3"), text);
    assertTrue(text.contains("jvm_threads_count 5"), text);
  }
}
