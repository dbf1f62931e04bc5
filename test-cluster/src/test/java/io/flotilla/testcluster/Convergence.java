package io.flotilla.testcluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waiting for the cluster to reach a state, shared by the whole-cluster tests. */
final class Convergence {
  private Convergence() {}

  /**
   * Reads {@code read} every 250 ms until {@code done} holds for its answer, and returns that
   * answer; fails after {@code timeout} with the last one. A read that fails counts as not yet.
   */
  static JsonNode await(Supplier<JsonNode> read, String what, Duration timeout, Predicate<JsonNode> done)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      try {
        last = read.get();
        if (done.test(last)) {
          return last;
        }
      } catch (AssertionError | RuntimeException e) {
        last = null;
      }
      Thread.sleep(250);
    }
    throw new AssertionError(what + " did not happen within " + timeout + "; last answer: " + last);
  }

  /**
   * Calls {@code call} every half second until it answers 200, and returns that answer; fails
   * after {@code timeout} with the last one. A call that fails (a node starting) counts as not yet.
   */
  static ApiClient.Resp awaitOk(Supplier<ApiClient.Resp> call, String what, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    ApiClient.Resp last = null;
    while (System.nanoTime() < deadline) {
      try {
        last = call.get();
        if (last.status() == 200) {
          return last;
        }
      } catch (RuntimeException e) {
        // not listening yet
      }
      Thread.sleep(500);
    }
    throw new AssertionError(what + " did not succeed within " + timeout + "; last answer: " + last);
  }

  /**
   * Polls {@code GET /v1/admin/ranges/{id}?checksum=true} on node {@code via} until the range
   * names a leader or is asleep, and all three replicas are up with the same applied revision,
   * data checksum and key count; returns that status, or fails after {@code timeout} with the
   * last answer. The status of a sleeping range names no leader: a caller must not take one from
   * it.
   *
   * <p>Asleep is as good as led: a range falls asleep only once every follower matched and
   * applied its whole log, and each replica's entry comes from that replica's own data, so the
   * comparison below means the same either way.
   *
   * <p>The revision, not the applied log index: the index also counts Ratis's own entries
   * (configuration and commit-metadata entries, which carry no data), and an idle follower was
   * seen to stay one such entry behind the leader for a minute after a whole-cluster restart
   * while holding exactly the leader's data.
   */
  static JsonNode awaitReplicasConverge(ProcessCluster cluster, String via, long rangeId, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String url = cluster.url(via) + "/v1/admin/ranges/" + rangeId + "?checksum=true";
    String last = null;
    JsonNode lastStatus = null;
    while (System.nanoTime() < deadline) {
      try {
        ApiClient.Resp r = cluster.api().raw("GET", url, null);
        last = r.toString();
        if (r.status() == 200) {
          lastStatus = r.json();
        }
        if (r.status() == 200 && (r.json().hasNonNull("leader") || r.json().path("asleep").asBoolean())) {
          JsonNode replicas = r.json().get("replica_status");
          Set<String> states = new HashSet<>();
          boolean allUp = true;
          for (JsonNode replica : replicas) {
            allUp &= "up".equals(replica.path("state").asText()) && replica.hasNonNull("checksum");
            states.add(replica.path("applied_revision").asText() + "/" + replica.path("checksum").asText()
                + "/" + replica.path("key_count").asText());
          }
          if (allUp && replicas.size() == 3 && states.size() == 1) {
            return r.json();
          }
        }
      } catch (RuntimeException e) {
        last = e.toString();
      }
      Thread.sleep(250);
    }
    throw new AssertionError("replicas of range " + rangeId + " did not converge within " + timeout + ": " + last
        + (lastStatus == null ? "" : "; keys per replica: " + keysPerReplica(cluster, lastStatus)));
  }

  /**
   * Where replicas disagree, which keys each one holds that another lacks: a stale scan of the
   * range's span through each replica's node is served by that node's own copy.
   */
  private static String keysPerReplica(ProcessCluster cluster, JsonNode range) {
    String span = "start=" + ApiClient.query(range.path("start").asText())
        + (range.path("end").isNull() || range.path("end").asText().isEmpty() ? ""
            : "&end=" + ApiClient.query(range.path("end").asText()));
    java.util.Map<String, Set<String>> keys = new java.util.TreeMap<>();
    for (JsonNode replica : range.path("replicas")) {
      String node = replica.asText();
      try {
        ApiClient.Resp scan = cluster.api().scan(cluster.url(node), span + "&consistency=stale&keys_only=true&limit=1000");
        Set<String> held = new java.util.TreeSet<>();
        scan.json().path("items").forEach(item -> held.add(item.path("key").asText()));
        keys.put(node + " (served by " + scan.header("X-Flotilla-Served-By") + ")", held);
      } catch (RuntimeException e) {
        keys.put(node, Set.of("unreadable: " + e));
      }
    }
    Set<String> all = new java.util.TreeSet<>();
    keys.values().forEach(all::addAll);
    StringBuilder out = new StringBuilder();
    keys.forEach((node, held) -> {
      Set<String> missing = new java.util.TreeSet<>(all);
      missing.removeAll(held);
      out.append(node).append(": ").append(held.size()).append(" keys, lacks ").append(missing).append("; ");
    });
    return out.toString();
  }
}
