package io.flotilla.testcluster;

import static io.flotilla.testcluster.Convergence.awaitReplicasConverge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of all three nodes at the same instant while clients write fresh keys and overwrite
 * hot keys in every range; after a restart every acknowledged write is there, no key's version
 * went back below its highest acknowledged version, and the value stored under a version is the
 * value of the write that was acknowledged with that version.
 *
 * <p>Randomized (which key, which node); the seed is printed and {@code -Dflotilla.seed=N}
 * replays the same choices.
 */
class WholeClusterCrashIT {
  private static final int SUBNET = 32;
  private static final int WRITERS = 6;
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  /** One first letter per range of the bootstrap layout (cut at g, n, t). */
  private static final List<String> RANGE_PREFIXES = List.of("c", "j", "q", "x");

  /** Everything the clients learnt about one key. */
  private static final class KeyHistory {
    /** value of every write of this key that was sent, acknowledged or not */
    final Set<String> attempted = ConcurrentHashMap.newKeySet();
    /** version -> value of every acknowledged write */
    final ConcurrentSkipListMap<Long, String> acknowledged = new ConcurrentSkipListMap<>();
  }

  @Test
  void killingEveryNodeMidWriteLosesNoAcknowledgedWriteAndNoVersionGoesBackwards() throws Exception {
    long seed = Long.getLong("flotilla.seed", System.nanoTime());
    System.out.println("WholeClusterCrashIT seed " + seed + " (replay with -Dflotilla.seed=" + seed + ")");
    long started = System.nanoTime();
    try (ProcessCluster cluster = ProcessCluster.start("whole-crash", SUBNET, 3, Map.of())) {
      ApiClient api = new ApiClient(Duration.ofSeconds(10));
      List<String> hotKeys = new ArrayList<>();
      for (String first : RANGE_PREFIXES) {
        for (int i = 0; i < 8; i++) {
          hotKeys.add(first + "/crash/hot/" + i);
        }
      }
      ConcurrentMap<String, KeyHistory> history = new ConcurrentHashMap<>();
      List<String> violations = new java.util.concurrent.CopyOnWriteArrayList<>();
      ConcurrentMap<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        Random random = new Random(seed + w);
        int writer = w;
        Thread t = new Thread(() -> {
          for (int n = 0; !stop.get(); n++) {
            String key = random.nextBoolean()
                ? hotKeys.get(random.nextInt(hotKeys.size()))
                : RANGE_PREFIXES.get(random.nextInt(RANGE_PREFIXES.size())) + "/crash/fresh/" + writer + "/" + n;
            String value = "w" + writer + "-n" + n; // unique per write
            String node = NODES.get(random.nextInt(NODES.size()));
            KeyHistory h = history.computeIfAbsent(key, k -> new KeyHistory());
            h.attempted.add(value);
            String outcome;
            try {
              ApiClient.Resp r = api.put(cluster.url(node), key, value);
              outcome = String.valueOf(r.status());
              if (r.status() == 200) {
                long version = r.json().get("version").asLong();
                String earlier = h.acknowledged.putIfAbsent(version, value);
                if (earlier != null) {
                  violations.add(key + " version " + version + " acknowledged for both " + earlier + " and " + value);
                }
              }
            } catch (RuntimeException e) {
              outcome = "io-error"; // the node died under the request: unknown outcome
            }
            outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
          }
        }, "writer-" + w);
        t.setDaemon(true);
        writers.add(t);
      }
      try {
        writers.forEach(Thread::start);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (acknowledgedWrites(history) < 400 && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertTrue(acknowledgedWrites(history) >= 400, "writes were acknowledged before the crash");
        // every node dies at the same instant: SIGKILL all three first, then reap them
        for (String node : NODES) {
          cluster.node(node).process().destroyForcibly();
        }
        for (String node : NODES) {
          cluster.kill(node);
        }
      } finally {
        stop.set(true);
        for (Thread t : writers) {
          t.join(30_000);
        }
      }
      assertTrue(writers.stream().noneMatch(Thread::isAlive), "writers stopped");
      assertEquals(List.of(), violations, "two acknowledged writes of one key shared a version");
      int inFlight = outcomes.getOrDefault("io-error", new AtomicInteger()).get();
      System.out.printf("WholeClusterCrashIT: all nodes killed; %d keys, %d acknowledged writes, outcomes %s%n",
          history.size(), acknowledgedWrites(history), toCounts(outcomes));
      for (String outcome : outcomes.keySet()) {
        assertTrue(Set.of("200", "429", "503", "504", "io-error").contains(outcome),
            () -> "a plain PUT got an answer other than success or unavailable: " + toCounts(outcomes));
      }

      long restartAt = System.nanoTime();
      for (String node : NODES) {
        cluster.start(node);
      }
      cluster.awaitReady(Duration.ofSeconds(90));
      System.out.printf("WholeClusterCrashIT: cluster ready %.1f s after the restart (%d writes were in flight "
          + "or refused at the crash)%n", (System.nanoTime() - restartAt) / 1e9, inFlight);

      int checked = 0;
      int newerThanAcknowledged = 0;
      Map<String, Long> readVersions = new TreeMap<>();
      for (Map.Entry<String, KeyHistory> e : new TreeMap<>(history).entrySet()) {
        String key = e.getKey();
        KeyHistory h = e.getValue();
        String via = NODES.get(checked++ % NODES.size());
        ApiClient.Resp r = readAfterRestart(api, cluster.url(via), key);
        if (h.acknowledged.isEmpty()) {
          // never acknowledged: it may or may not exist, but if it does it holds a value we wrote
          assertTrue(r.status() == 200 || r.status() == 404, () -> key + " via " + via + " -> " + r);
          if (r.status() == 200) {
            String value = valueOf(r.json());
            assertTrue(h.attempted.contains(value), () -> key + " holds " + value + ", which no client wrote");
          }
          continue;
        }
        assertEquals(200, r.status(), () -> "acknowledged key lost: " + key + " via " + via + " -> " + r);
        long version = r.json().get("version").asLong();
        String value = valueOf(r.json());
        long highest = h.acknowledged.lastKey();
        assertTrue(version >= highest, () -> key + " went back from acknowledged version " + highest + " to " + version);
        String acknowledgedValue = h.acknowledged.get(version);
        if (acknowledgedValue != null) {
          assertEquals(acknowledgedValue, value, () -> key + " version " + version + " holds another write's value");
        } else {
          assertTrue(h.attempted.contains(value), () -> key + " holds " + value + ", which no client wrote");
        }
        if (version > highest) {
          newerThanAcknowledged++;
        }
        readVersions.put(key, version);
      }
      System.out.printf("WholeClusterCrashIT: %d acknowledged keys intact, %d of them at a newer version from a "
          + "write whose acknowledgement the crash swallowed%n", readVersions.size(), newerThanAcknowledged);

      // the replicas of every range agree again: same applied index, same data
      long convergeFrom = System.nanoTime();
      for (String first : RANGE_PREFIXES) {
        ApiClient.Resp range = api.raw("GET", cluster.url("n1") + "/v1/admin/ranges?key=" + first, null);
        assertEquals(200, range.status(), range::toString);
        awaitReplicasConverge(cluster, "n1", range.json().get("id").asLong(), Duration.ofSeconds(60));
      }
      System.out.printf("WholeClusterCrashIT: replicas of all ranges agree (applied index and checksum) %.1f s "
          + "after the reads%n", (System.nanoTime() - convergeFrom) / 1e9);

      // versions are never reused after a crash: a new write of a hot key gets a higher one
      for (String key : hotKeys) {
        if (!readVersions.containsKey(key)) {
          continue;
        }
        ApiClient.Resp r = api.put(cluster.url("n3"), key, "after-crash");
        assertEquals(200, r.status(), () -> "write after the restart failed: " + r);
        long version = r.json().get("version").asLong();
        assertTrue(version > readVersions.get(key),
            () -> key + " was written at version " + version + " after the crash, not above " + readVersions.get(key));
      }
    } finally {
      System.out.printf("WholeClusterCrashIT: %.1f s wall time%n", (System.nanoTime() - started) / 1e9);
    }
  }

  private static int acknowledgedWrites(Map<String, KeyHistory> history) {
    return history.values().stream().mapToInt(h -> h.acknowledged.size()).sum();
  }

  private static String valueOf(JsonNode body) {
    return new String(Base64.getDecoder().decode(body.get("value").asText()), StandardCharsets.UTF_8);
  }

  /**
   * A strong read, retried while the answer is "unavailable" (a range may still be electing
   * its leader right after the restart); 200 and 404 are definite answers and returned.
   */
  private static ApiClient.Resp readAfterRestart(ApiClient api, String base, String key) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Object last;
    do {
      try {
        ApiClient.Resp r = api.get(base, key, "consistency=strong");
        if (r.status() != 503 && r.status() != 504) {
          return r;
        }
        last = r;
      } catch (RuntimeException e) {
        last = e;
      }
      Thread.sleep(200);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("no definite answer for " + key + " from " + base + " within 30 s: " + last);
  }

  private static Map<String, Integer> toCounts(Map<String, AtomicInteger> counters) {
    Map<String, Integer> counts = new TreeMap<>();
    counters.forEach((k, v) -> counts.put(k, v.get()));
    return counts;
  }
}
