package io.flotilla.testcluster.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Adds unique elements (one key each, spread over every range); at the end, reads the whole
 * set back. Every acknowledged add must be there; an add of unknown outcome may or may not
 * be; nothing that was never added may appear.
 */
public final class SetWorkload implements Workload {
  private final String suffix;
  private final AtomicLong next = new AtomicLong();

  /** {@code namespace} keeps this run's set apart from earlier runs' on the same cluster. */
  public SetWorkload(String namespace) {
    this.suffix = "/chaos-set/" + namespace + "/";
  }

  String keyOf(long element) {
    return (char) ('a' + element % 26) + suffix + element;
  }

  @Override
  public Op.Type step(int client, int process, Random random, ApiClient api, String node, History history) {
    long element = next.incrementAndGet();
    Op inv = history.invoke(process, "add", keyOf(element), String.valueOf(element));
    Outcomes.Outcome o = Outcomes.write(() -> api.put(node, keyOf(element), String.valueOf(element)));
    history.complete(inv, o.type(), o.error());
    return o.type();
  }

  @Override
  public Verdict check(List<Op> history, ApiClient api, List<String> nodes) {
    Set<Long> attempted = new TreeSet<>();
    Set<Long> acked = new TreeSet<>();
    Set<Long> unsure = new TreeSet<>();
    java.util.Map<Integer, Op> open = new java.util.HashMap<>();
    for (Op op : history) {
      if (!"add".equals(op.f())) {
        continue;
      }
      if (op.type() == Op.Type.INVOKE) {
        open.put(op.process(), op);
        attempted.add(Long.parseLong(op.value()));
        continue;
      }
      Op inv = open.remove(op.process());
      long element = Long.parseLong(inv.value());
      if (op.type() == Op.Type.OK) {
        acked.add(element);
      } else if (op.type() == Op.Type.INFO) {
        unsure.add(element);
      }
    }
    open.values().forEach(inv -> unsure.add(Long.parseLong(inv.value())));
    Set<Long> present = readAll(api, nodes);
    List<String> anomalies = new ArrayList<>();
    Set<Long> lost = new TreeSet<>(acked);
    lost.removeAll(present);
    if (!lost.isEmpty()) {
      anomalies.add(lost.size() + " acknowledged adds are lost: " + first(lost));
    }
    Set<Long> unexpected = new TreeSet<>(present);
    unexpected.removeAll(attempted);
    if (!unexpected.isEmpty()) {
      anomalies.add(unexpected.size() + " elements were never added: " + first(unexpected));
    }
    Set<Long> failedButPresent = new TreeSet<>(present);
    failedButPresent.removeAll(acked);
    failedButPresent.removeAll(unsure);
    failedButPresent.retainAll(attempted);
    if (!failedButPresent.isEmpty()) {
      anomalies.add(failedButPresent.size() + " adds reported failed are present: " + first(failedButPresent));
    }
    Set<Long> recovered = new TreeSet<>(unsure);
    recovered.retainAll(present);
    return Verdict.of(anomalies, String.format("%d attempted, %d acknowledged, %d unknown (%d of them present), "
        + "%d present at the end", attempted.size(), acked.size(), unsure.size(), recovered.size(), present.size()));
  }

  private static String first(Set<Long> s) {
    return s.stream().limit(10).toList() + (s.size() > 10 ? " ..." : "");
  }

  /** Every element, read with strong scans of each prefix (paged). */
  private Set<Long> readAll(ApiClient api, List<String> nodes) {
    Set<Long> present = new TreeSet<>();
    for (char c = 'a'; c <= 'z'; c++) {
      String prefix = c + suffix;
      String cursor = null;
      do {
        String params = "prefix=" + ApiClient.query(prefix) + "&limit=1000&keys_only=true"
            + (cursor == null ? "" : "&cursor=" + ApiClient.query(cursor));
        ApiClient.Resp r = null;
        for (int attempt = 0; attempt < 20 && (r == null || r.status() != 200); attempt++) {
          try {
            r = api.scan(nodes.get(attempt % nodes.size()), params);
          } catch (java.io.UncheckedIOException e) {
            r = null;
          }
        }
        if (r == null || r.status() != 200) {
          throw new IllegalStateException("could not read the set back: " + r);
        }
        JsonNode page = r.json();
        for (JsonNode item : page.get("items")) {
          String key = item.get("key").asText();
          present.add(Long.parseLong(key.substring(key.lastIndexOf('/') + 1)));
        }
        cursor = page.path("cursor").isTextual() ? page.get("cursor").asText() : null;
      } while (cursor != null);
    }
    return present;
  }
}
