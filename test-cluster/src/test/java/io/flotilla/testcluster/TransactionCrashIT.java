package io.flotilla.testcluster;

import static io.flotilla.testcluster.Convergence.awaitReplicasConverge;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient.Resp;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the node coordinating cross-range atomic batches while they run. Every batch
 * writes one fresh key in each of the four ranges; afterwards each batch is either wholly
 * visible or not at all, every acknowledged batch is visible, every refused one is not, and
 * no intent is left behind once the survivors have swept up the dead coordinator's work.
 */
class TransactionCrashIT {
  private static final int SUBNET = 35;
  private static final List<String> RANGES = List.of("c", "j", "q", "x");

  enum Outcome { OK, REFUSED, UNKNOWN }

  @Test
  void aBatchWhoseCoordinatorDiesIsAppliedWhollyOrNotAtAll() throws Exception {
    Map<String, Object> quick = Map.of("txnAbandonAfter", "2s", "sweepInterval", "500ms");
    try (ProcessCluster cluster = ProcessCluster.start("txn-crash", SUBNET, 3, quick)) {
      ApiClient api = new ApiClient(Duration.ofSeconds(15));
      Map<String, Outcome> batches = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < 6; w++) {
        int writer = w;
        String node = cluster.url(w < 4 ? "n3" : "n1"); // n3 coordinates most of them, and dies
        Thread t = new Thread(() -> {
          for (int i = 0; !stop.get(); i++) {
            String id = "w" + writer + "-" + i;
            List<String> ops = new ArrayList<>();
            for (String range : RANGES) {
              ops.add("{\"op\":\"put\",\"key\":\"" + range + "/txc/" + id + "\",\"value\":\""
                  + Base64.getEncoder().encodeToString(id.getBytes(StandardCharsets.UTF_8)) + "\"}");
            }
            batches.put(id, Outcome.UNKNOWN);
            try {
              Resp r = api.batch(node, "{\"atomic\": true, \"ops\": [" + String.join(",", ops) + "]}");
              batches.put(id, r.status() == 200 ? Outcome.OK : r.status() == 504 ? Outcome.UNKNOWN : Outcome.REFUSED);
              if (r.status() != 200 && r.status() != 503 && r.status() != 504) {
                throw new AssertionError("unexpected answer to batch " + id + ": " + r);
              }
            } catch (RuntimeException e) {
              // connection refused or reset by the killed node: the outcome stays unknown
              sleep(50);
            }
          }
        });
        writers.add(t);
        t.start();
      }
      Thread.sleep(4_000);
      cluster.kill("n3");
      Thread.sleep(3_000);
      stop.set(true);
      for (Thread t : writers) {
        t.join();
      }
      long ok = batches.values().stream().filter(o -> o == Outcome.OK).count();
      long unknown = batches.values().stream().filter(o -> o == Outcome.UNKNOWN).count();
      System.out.println("TransactionCrashIT: " + batches.size() + " batches, " + ok + " acknowledged, " + unknown
          + " unknown");
      assertTrue(ok > 0 && unknown > 0, "the kill must land while batches are in flight");

      String survivor = cluster.url("n1");
      awaitNoIntents(cluster, "n1", Duration.ofSeconds(30));
      int applied = 0;
      for (Map.Entry<String, Outcome> batch : batches.entrySet()) {
        int present = 0;
        for (String range : RANGES) {
          Resp r = api.get(survivor, range + "/txc/" + batch.getKey(), "raw");
          assertTrue(r.status() == 200 || r.status() == 404, r::toString);
          if (r.status() == 200) {
            assertEquals(batch.getKey(), r.text());
            present++;
          }
        }
        String what = "batch " + batch.getKey() + " (" + batch.getValue() + ") is visible in " + present + " of 4 ranges";
        assertTrue(present == 0 || present == 4, what);
        if (batch.getValue() == Outcome.OK) {
          assertEquals(4, present, what);
        } else if (batch.getValue() == Outcome.REFUSED) {
          assertEquals(0, present, what);
        }
        applied += present == 4 ? 1 : 0;
      }
      System.out.println("TransactionCrashIT: " + applied + " batches applied in all");

      cluster.start("n3");
      cluster.awaitReady(Duration.ofSeconds(60));
      for (long range = 1; range <= 4; range++) {
        JsonNode converged = awaitReplicasConverge(cluster, "n3", range, Duration.ofSeconds(60));
        for (JsonNode replica : converged.get("replica_status")) {
          assertEquals(0, replica.get("intents").asLong(), () -> "intents left on " + replica);
        }
      }
    }
  }

  /** Waits until every range's leader holds no intent (the sweepers resolved the dead coordinator's). */
  private static void awaitNoIntents(ProcessCluster cluster, String via, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      long intents = 0;
      boolean answered = true;
      for (long range = 1; range <= 4; range++) {
        Resp r = cluster.api().raw("GET", cluster.url(via) + "/v1/admin/ranges/" + range, null);
        if (r.status() != 200) {
          answered = false;
          continue;
        }
        last = r.text();
        for (JsonNode replica : r.json().get("replica_status")) {
          intents += replica.path("intents").asLong(0);
        }
      }
      if (answered && intents == 0) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("intents still held after " + timeout + ": " + last);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
