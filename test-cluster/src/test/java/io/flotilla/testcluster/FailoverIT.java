package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of a range's leader while clients write to that range: writes resume through the
 * surviving nodes within seconds, every acknowledged write stays readable, and the restarted
 * node catches up to the same data.
 */
class FailoverIT {
  private static final String PREFIX = "h/failover/"; // range [g, n)

  @Test
  void killingARangeLeaderLosesNoAcknowledgedWriteAndWritesResumeWithinSeconds() throws Exception {
    try (ProcessCluster cluster = ProcessCluster.start("failover", 22, 3, Map.of())) {
      ApiClient api = new ApiClient(Duration.ofSeconds(15));
      JsonNode range = ClusterChecks.rangeOf(cluster, "n1", PREFIX);
      long rangeId = range.get("id").asLong();
      String leader = range.get("leader").asText();
      List<String> survivors = new ArrayList<>(List.of("n1", "n2", "n3"));
      survivors.remove(leader);

      Map<String, String> acknowledged = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicBoolean killed = new AtomicBoolean();
      AtomicLong killedAt = new AtomicLong();
      AtomicLong firstAckAfterKill = new AtomicLong();
      AtomicInteger unknown = new AtomicInteger();
      AtomicInteger sequence = new AtomicInteger();
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < 6; w++) {
        int writer = w;
        Thread t = new Thread(() -> {
          while (!stop.get()) {
            int n = sequence.incrementAndGet();
            String key = PREFIX + writer + "/" + n;
            String value = "value-" + n;
            // after the kill, only surviving nodes can be reached
            String node = killed.get() ? survivors.get(n % 2) : List.of("n1", "n2", "n3").get(n % 3);
            boolean startedAfterKill = killed.get();
            try {
              ApiClient.Resp r = api.put(cluster.url(node), key, value);
              if (r.status() == 200) {
                acknowledged.put(key, value);
                if (startedAfterKill) { // only a write begun after the kill proves the range works again
                  firstAckAfterKill.compareAndSet(0, System.nanoTime());
                }
              } else {
                unknown.incrementAndGet(); // 503/504: may or may not have been applied
              }
            } catch (RuntimeException e) {
              unknown.incrementAndGet(); // connection refused by the killed node, or a timeout
            }
          }
        }, "writer-" + w);
        writers.add(t);
        t.start();
      }

      Thread.sleep(3000);
      int before = acknowledged.size();
      assertTrue(before > 0, "writes were acknowledged before the kill");
      killedAt.set(System.nanoTime());
      killed.set(true);
      cluster.kill(leader);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (firstAckAfterKill.get() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      Thread.sleep(3000);
      stop.set(true);
      for (Thread t : writers) {
        t.join();
      }
      assertNotEquals(0, firstAckAfterKill.get(), "no write was acknowledged after the leader was killed");
      double gapSeconds = (firstAckAfterKill.get() - killedAt.get()) / 1e9;
      System.out.printf("failover: leader %s of range %d killed; first acknowledged write %.2f s later; "
          + "%d acknowledged, %d unknown%n", leader, rangeId, gapSeconds, acknowledged.size(), unknown.get());
      assertTrue(gapSeconds < 10, "writes resumed only after " + gapSeconds + " s");

      JsonNode after = ClusterChecks.rangeOf(cluster, survivors.get(0), PREFIX);
      assertNotEquals(leader, after.get("leader").asText(), "a surviving replica leads the range");

      for (Map.Entry<String, String> e : acknowledged.entrySet()) {
        ApiClient.Resp r = api.get(cluster.url(survivors.get(0)), e.getKey(), "raw");
        assertEquals(200, r.status(), () -> "acknowledged write lost: " + e.getKey() + " -> " + r);
        assertEquals(e.getValue(), r.text());
      }

      cluster.start(leader);
      cluster.awaitReady(Duration.ofSeconds(60));
      JsonNode converged = ClusterChecks.awaitReplicasConverge(cluster, survivors.get(0), rangeId, Duration.ofSeconds(60));
      for (JsonNode replica : converged.get("replica_status")) {
        assertTrue(replica.get("key_count").asLong() >= acknowledged.size());
      }
      ApiClient.Resp fromRestarted = api.get(cluster.url(leader), acknowledged.keySet().iterator().next(), "consistency=stale");
      assertEquals(200, fromRestarted.status(), fromRestarted::toString);
      assertEquals(leader, fromRestarted.header("X-Flotilla-Served-By"), "the restarted node serves from its own replica");
    }
  }
}
