package io.flotilla.testcluster;

import static io.flotilla.testcluster.Convergence.awaitReplicasConverge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * A replica that was down while its ranges took far more writes than the (deliberately tiny)
 * Raft log retains catches up through the range-snapshot path, because the leaders purged the
 * entries it missed, and ends up with exactly the leaders' data.
 */
class SnapshotCatchUpIT {
  private static final int SUBNET = 33;
  /** One first letter per range of the bootstrap layout (cut at g, n, t). */
  private static final List<String> RANGE_PREFIXES = List.of("b", "i", "p", "w");
  private static final int KEYS_PER_RANGE = 375; // 1,500 writes of 1 KiB in all
  private static final int VALUE_BYTES = 1024;

  @Test
  void aReplicaBehindThePurgedLogCatchesUpByInstallingARangeSnapshotAndMatchesTheLeader() throws Exception {
    long started = System.nanoTime();
    // a snapshot every 40 entries and 64 KB segments: the leaders purge the log within seconds
    Map<String, Object> tinyLog = Map.of("raft", Map.of("snapshotThreshold", 40, "segmentSize", "64KB"));
    try (ProcessCluster cluster = ProcessCluster.start("snapshot-catchup", SUBNET, 3, tinyLog)) {
      ApiClient api = new ApiClient(Duration.ofSeconds(10));
      Map<String, Long> rangeIds = new LinkedHashMap<>();
      for (String first : RANGE_PREFIXES) {
        rangeIds.put(first, rangeOf(cluster, "n1", first + "/").get("id").asLong());
      }
      assertEquals(4, new HashSet<>(rangeIds.values()).size(), "one prefix per range: " + rangeIds);

      cluster.stop("n3");
      long writesStarted = System.nanoTime();
      ExecutorService pool = Executors.newFixedThreadPool(RANGE_PREFIXES.size());
      try {
        List<Future<Integer>> writers = new ArrayList<>();
        for (String first : RANGE_PREFIXES) {
          writers.add(pool.submit(() -> {
            int retries = 0;
            for (int i = 0; i < KEYS_PER_RANGE; i++) {
              retries += putUntilAcknowledged(api, cluster.url("n1"), keyOf(first, i), valueOf(first, i));
            }
            return retries;
          }));
        }
        int retries = 0;
        for (Future<Integer> w : writers) {
          retries += w.get();
        }
        System.out.printf("SnapshotCatchUpIT: %d writes of %d B acknowledged via n1 in %.1f s while n3 was down "
            + "(%d retried after 503/504/io errors)%n", RANGE_PREFIXES.size() * KEYS_PER_RANGE, VALUE_BYTES,
            (System.nanoTime() - writesStarted) / 1e9, retries);
      } finally {
        pool.shutdownNow();
      }

      long restartedAt = System.nanoTime();
      cluster.start("n3");
      cluster.awaitReady(Duration.ofSeconds(60));
      for (Map.Entry<String, Long> e : rangeIds.entrySet()) {
        JsonNode status = awaitReplicasConverge(cluster, "n1", e.getValue(), Duration.ofSeconds(90));
        Map<String, Long> keyCounts = new LinkedHashMap<>();
        for (JsonNode replica : status.get("replica_status")) {
          keyCounts.put(replica.get("node").asText(), replica.get("key_count").asLong());
        }
        // n1's count stands for the leader's (a range asleep again names no leader): with n3 down,
        // every committed write needed n1's replica.
        assertEquals(keyCounts.get("n1"), keyCounts.get("n3"), () -> "n3 and n1 disagree: " + status);
        assertEquals(KEYS_PER_RANGE, keyCounts.get("n3"), () -> "range " + e.getValue() + ": " + status);
      }
      System.out.printf("SnapshotCatchUpIT: every replica of the 4 ranges agrees %.1f s after n3 was started%n",
          (System.nanoTime() - restartedAt) / 1e9);

      List<String> log = Files.readAllLines(cluster.node("n3").data.resolve("node.log"));
      Set<Long> installedRanges = new HashSet<>();
      for (String line : log) {
        for (long id : rangeIds.values()) {
          if (line.contains("range " + id + " node n3: installed snapshot")) {
            installedRanges.add(id);
          }
        }
      }
      System.out.printf("SnapshotCatchUpIT: n3 installed range snapshots for ranges %s%n", installedRanges);
      assertEquals(new HashSet<>(rangeIds.values()), installedRanges,
          "n3 caught up by log replay for some ranges; the leaders had not purged what it missed");

      // n3's own replica serves every key with the right bytes (stale = no quorum round trip)
      for (String first : RANGE_PREFIXES) {
        for (int i = 0; i < KEYS_PER_RANGE; i++) {
          String key = keyOf(first, i);
          ApiClient.Resp r = api.get(cluster.url("n3"), key, "raw&consistency=stale");
          assertEquals(200, r.status(), () -> key + " from n3: " + r);
          assertEquals("n3", r.header("X-Flotilla-Served-By"), () -> key + " was not served by n3's replica");
          assertArrayEquals(valueOf(first, i), r.body(), () -> key + " has other bytes on n3");
        }
      }
    } finally {
      System.out.printf("SnapshotCatchUpIT: %.1f s wall time%n", (System.nanoTime() - started) / 1e9);
    }
  }

  private static String keyOf(String first, int i) {
    return first + "/catchup/" + i;
  }

  /** 1 KiB that differs per key, so a replica holding another key's bytes is caught. */
  private static byte[] valueOf(String first, int i) {
    byte[] value = new byte[VALUE_BYTES];
    Arrays.fill(value, (byte) ('a' + i % 26));
    byte[] label = (first + i + ":").getBytes(StandardCharsets.UTF_8);
    System.arraycopy(label, 0, value, 0, label.length);
    return value;
  }

  /**
   * PUTs until one attempt is acknowledged (a range whose leader was n3 elects another first);
   * repeating a PUT of the same bytes leaves the same key and value. Returns the retries.
   */
  private static int putUntilAcknowledged(ApiClient api, String base, String key, byte[] value)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    for (int retries = 0; ; retries++) {
      Object last;
      try {
        ApiClient.Resp r = api.put(base, key, value, "");
        if (r.status() == 200) {
          return retries;
        }
        assertTrue(r.status() == 429 || r.status() == 503 || r.status() == 504, () -> key + ": " + r);
        last = r;
      } catch (RuntimeException e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no PUT of " + key + " was acknowledged within 30 s; last: " + last);
      }
      Thread.sleep(100);
    }
  }

  private static JsonNode rangeOf(ProcessCluster cluster, String via, String key) {
    ApiClient.Resp r = cluster.api().raw("GET", cluster.url(via) + "/v1/admin/ranges?key=" + ApiClient.query(key), null);
    assertEquals(200, r.status(), r::toString);
    return r.json();
  }

}
