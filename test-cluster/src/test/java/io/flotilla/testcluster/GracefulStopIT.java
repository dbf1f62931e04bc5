package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A node stopped with SIGTERM hands the leaderships it holds (two ranges' and the placement
 * driver's) to other replicas before its Raft server closes. Elections here wait at least 6 s
 * ({@code raft.rpcTimeoutMin}) after a leader falls silent. With the handoff, writes to each
 * range through the other nodes never stall for three quarters of that; with it turned off
 * ({@code leaderHandoffAtStop: 0s}), the same run stalls each range at least that long, which
 * shows the measure tells the two apart. Every acknowledged write is read back.
 */
class GracefulStopIT {
  private static final int SUBNET = 54;
  /** One key prefix in each of the two ranges (the cluster is cut at "m"). */
  private static final List<String> KEYS = List.of("d/graceful", "t/graceful");
  private static final int WRITERS = 4;
  /** The earliest a follower stands for election after its leader falls silent (raft.rpcTimeoutMin). */
  private static final Duration ELECTION_FLOOR = Duration.ofSeconds(6);
  /**
   * Under the floor with room to spare: a leader's log appender that fails a send to a follower
   * waits a heartbeat interval (rpcTimeoutMin / 2, 3 s here) before it retries, and a range that
   * meets that while one of its followers is gone stalls that long.
   */
  private static final double STALL_LIMIT_SECONDS = ELECTION_FLOOR.toSeconds() * 0.75;

  @Test
  void aStoppingNodeHandsItsLeadershipsToOtherReplicasBeforeItExits() throws Exception {
    Map<String, Double> stalls = stopALeaderWhileWriting("graceful-stop", "5s");
    stalls.forEach((range, seconds) -> assertTrue(seconds < STALL_LIMIT_SECONDS,
        () -> "writes to " + range + " stalled for " + seconds + " s while their leader's node stopped: "
            + "its leadership was not handed over (" + stalls + ")"));
  }

  @Test
  void withoutTheHandoffEachRangeWaitsForAnElection() throws Exception {
    Map<String, Double> stalls = stopALeaderWhileWriting("graceful-stop-off", "0s");
    stalls.forEach((range, seconds) -> assertTrue(seconds >= STALL_LIMIT_SECONDS,
        () -> "writes to " + range + " stalled only " + seconds + " s with no handoff: the measure would not "
            + "tell a handoff from an election (" + stalls + ")"));
  }

  /**
   * Starts a cluster, makes the placement driver's leader lead both ranges too, stops that node
   * with SIGTERM while four writers write to both ranges through the other two nodes, and
   * returns, per range, the longest time no write to it was acknowledged from the SIGTERM until
   * an election could have ended any stall. Checks every acknowledged write, and the stopped
   * node's restart.
   */
  private static Map<String, Double> stopALeaderWhileWriting(String name, String handoff) throws Exception {
    Map<String, Object> overrides = Map.of(
        "raft", Map.of("rpcTimeoutMin", ELECTION_FLOOR.toSeconds() + "s", "rpcTimeoutMax", "9s"),
        "initialSplits", List.of("m"),
        "leaderHandoffAtStop", handoff,
        "placement", Map.of("enabled", false)); // nothing moves leaders back meanwhile
    try (ProcessCluster cluster = ProcessCluster.start(name, SUBNET, 3, overrides)) {
      ApiClient api = cluster.api();
      for (String key : KEYS) {
        assertEquals(200, api.put(cluster.url("n1"), key, "before").status());
      }
      String pd = pdLeader(cluster, "n1");
      for (long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
          pd.equals("none") && System.nanoTime() < deadline; pd = pdLeader(cluster, "n1")) {
        Thread.sleep(200);
      }
      assertTrue(!pd.equals("none"), "the placement driver elected a leader");
      String stopping = pd; // it leads the placement driver, and is made to lead both ranges
      for (String key : KEYS) {
        long range = range(cluster, "n1", key).get("id").asLong();
        ApiClient.Resp moved = api.admin("POST", cluster.url("n1") + "/v1/admin/ranges/" + range + "/transfer-leader",
            ("{\"to\": \"" + stopping + "\"}").getBytes());
        assertEquals(200, moved.status(), moved::toString);
      }
      List<String> survivors = cluster.nodeIds().stream().filter(n -> !n.equals(stopping)).toList();

      ConcurrentMap<String, String> acknowledged = new ConcurrentHashMap<>();
      Map<String, ConcurrentLinkedQueue<Long>> ackedAt = new LinkedHashMap<>();
      KEYS.forEach(k -> ackedAt.put(k, new ConcurrentLinkedQueue<>()));
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int writer = w;
        Thread t = new Thread(() -> {
          for (int n = 0; !stop.get(); n++) {
            String prefix = KEYS.get(n % KEYS.size());
            String key = prefix + "/" + writer + "/" + n;
            try {
              if (api.put(cluster.url(survivors.get((writer + n) % survivors.size())), key, "v" + n).status() == 200) {
                acknowledged.put(key, "v" + n);
                ackedAt.get(prefix).add(System.nanoTime());
              }
            } catch (RuntimeException e) {
              // unknown outcome: not checked
            }
          }
        }, "graceful-stop-writer-" + w);
        t.setDaemon(true);
        writers.add(t);
      }
      long stopIssued;
      long exited;
      AtomicLong writingUntil = new AtomicLong();
      try {
        writers.forEach(Thread::start);
        Thread.sleep(1000);
        stopIssued = System.nanoTime();
        cluster.stop(stopping); // SIGTERM; returns once the process has exited
        exited = System.nanoTime();
        Thread.sleep(ELECTION_FLOOR.toMillis()); // past the earliest election the stop could have caused
      } finally {
        writingUntil.set(System.nanoTime());
        stop.set(true);
        for (Thread t : writers) {
          t.join(30_000);
        }
      }
      // Per range, the longest time no write to it was acknowledged, from the SIGTERM on. A
      // leader that merely vanished leaves its range without one for at least ELECTION_FLOOR.
      Map<String, Double> stalls = new LinkedHashMap<>();
      ackedAt.forEach((range, times) -> {
        long longest = 0;
        long previous = stopIssued;
        for (long t : times.stream().filter(t -> t >= stopIssued).sorted().toList()) {
          longest = Math.max(longest, t - previous);
          previous = t;
        }
        stalls.put(range, Math.max(longest, writingUntil.get() - previous) / 1e9);
      });
      System.out.printf("GracefulStopIT: handoff %s; %s stopped in %.2f s; longest stall per range %s; %d writes "
          + "acknowledged; leaders now: %s%n", handoff, stopping, (exited - stopIssued) / 1e9, stalls,
          acknowledged.size(), leaders(cluster, survivors.get(0)));
      for (Map.Entry<String, String> e : acknowledged.entrySet()) {
        ApiClient.Resp r = api.get(cluster.url(survivors.get(0)), e.getKey(), "raw&consistency=strong");
        assertEquals(200, r.status(), () -> "acknowledged write lost: " + e.getKey() + " -> " + r);
        assertEquals(e.getValue(), r.text());
      }

      cluster.start(stopping);
      cluster.awaitReady(Duration.ofSeconds(60));
      ApiClient.Resp back = api.get(cluster.url(stopping), KEYS.get(0), "raw&consistency=strong");
      assertEquals("before", back.text(), back::toString);
      return stalls;
    }
  }

  private static String pdLeader(ProcessCluster cluster, String via) {
    JsonNode summary = cluster.api().raw("GET", cluster.url(via) + "/v1/admin/cluster", null).json().get("summary");
    return summary.path("placement_driver_leader").asText("none");
  }

  private static List<String> leaders(ProcessCluster cluster, String via) {
    List<String> out = new ArrayList<>();
    for (String key : KEYS) {
      out.add(key + "=" + range(cluster, via, key).path("leader").asText("none"));
    }
    out.add("pd=" + pdLeader(cluster, via));
    return out;
  }

  private static JsonNode range(ProcessCluster cluster, String via, String key) {
    String url = cluster.url(via) + "/v1/admin/ranges?key=" + ApiClient.query(key);
    ApiClient.Resp r = cluster.api().raw("GET", url, null);
    assertEquals(200, r.status(), r::toString);
    return r.json();
  }
}
