package io.flotilla.api.resources;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import java.util.Locale;
import java.util.Map;

/** Renders a Dropwizard {@link MetricRegistry} in the Prometheus text exposition format 0.0.4. */
final class PrometheusText {
  private static final double NANOS_PER_SECOND = 1e9;

  private PrometheusText() {}

  static StringBuilder render(MetricRegistry registry) {
    StringBuilder out = new StringBuilder(16 * 1024);
    for (Map.Entry<String, Gauge> e : registry.getGauges().entrySet()) {
      Object v = e.getValue().getValue();
      if (v instanceof Number n) {
        String name = sanitize(e.getKey());
        type(out, name, "gauge");
        sample(out, name, "", n.doubleValue());
      } else if (v instanceof Boolean b) {
        String name = sanitize(e.getKey());
        type(out, name, "gauge");
        sample(out, name, "", b ? 1 : 0);
      }
    }
    for (Map.Entry<String, Counter> e : registry.getCounters().entrySet()) {
      String name = sanitize(e.getKey());
      type(out, name, "gauge");
      sample(out, name, "", e.getValue().getCount());
    }
    for (Map.Entry<String, Meter> e : registry.getMeters().entrySet()) {
      String name = sanitize(e.getKey()) + "_total";
      type(out, name, "counter");
      sample(out, name, "", e.getValue().getCount());
    }
    for (Map.Entry<String, Histogram> e : registry.getHistograms().entrySet()) {
      summary(out, sanitize(e.getKey()), e.getValue().getSnapshot(), e.getValue().getCount(), 1);
    }
    for (Map.Entry<String, Timer> e : registry.getTimers().entrySet()) {
      summary(out, sanitize(e.getKey()) + "_seconds", e.getValue().getSnapshot(), e.getValue().getCount(),
          NANOS_PER_SECOND);
    }
    return out;
  }

  private static void summary(StringBuilder out, String name, Snapshot s, long count, double scale) {
    type(out, name, "summary");
    sample(out, name, "{quantile=\"0.5\"}", s.getMedian() / scale);
    sample(out, name, "{quantile=\"0.99\"}", s.get99thPercentile() / scale);
    sample(out, name, "{quantile=\"0.999\"}", s.get999thPercentile() / scale);
    sample(out, name + "_count", "", count);
    sample(out, name + "_sum", "", s.getMean() * count / scale);
  }

  private static void type(StringBuilder out, String name, String type) {
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void sample(StringBuilder out, String name, String labels, double value) {
    out.append(name).append(labels).append(' ');
    if (value == Math.rint(value) && !Double.isInfinite(value) && Math.abs(value) < 1e15) {
      out.append((long) value);
    } else {
      out.append(String.format(Locale.ROOT, "%.6g", value));
    }
    out.append('\n');
  }

  static String sanitize(String name) {
    String s = name.replaceAll("[^a-zA-Z0-9_:]", "_");
    return Character.isDigit(s.charAt(0)) ? "_" + s : s;
  }
}
