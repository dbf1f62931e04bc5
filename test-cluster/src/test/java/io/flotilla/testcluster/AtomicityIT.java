package io.flotilla.testcluster;

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
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Races on real node processes: many clients incrementing one counter, many clients doing
 * compare-and-set on one key, and a bank whose transfers are atomic batches across ranges
 * while other clients read every account in one atomic batch.
 *
 * <p>An answer of 504 (outcome unknown) is counted apart: the checks allow exactly what it
 * allows (applied or not), and nothing more.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AtomicityIT {
  private static final int SUBNET = 34;
  private static final int CLIENTS = 12;
  private ProcessCluster cluster;
  private final ApiClient api = new ApiClient(Duration.ofSeconds(15));
  private List<String> nodes;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = ProcessCluster.start("atomicity", SUBNET, 3, Map.of());
    nodes = cluster.nodes().stream().map(m -> m.http).toList();
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Runs {@code body(client, i)} for i in [0, perClient) on every client thread, in parallel. */
  private void race(int perClient, ClientStep body) throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      Thread t = new Thread(() -> {
        try {
          for (int i = 0; i < perClient; i++) {
            body.step(client, i);
          }
        } catch (Throwable e) {
          errors.add(e);
        }
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertTrue(errors.isEmpty(), () -> "client threads failed: " + errors);
  }

  interface ClientStep {
    void step(int client, int i) throws Exception;
  }

  @Test
  void concurrentIncrementsAddUpExactly() throws Exception {
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger unknown = new AtomicInteger();
    Map<Integer, Integer> other = new ConcurrentHashMap<>();
    race(40, (client, i) -> {
      Resp r = api.incr(nodes.get((client + i) % 3), "m/race/counter", "{\"delta\": 1}");
      if (r.status() == 200) {
        ok.incrementAndGet();
      } else if (r.status() == 504) {
        unknown.incrementAndGet();
      } else {
        other.merge(r.status(), 1, Integer::sum);
      }
    });
    assertTrue(other.isEmpty(), () -> "unexpected answers: " + other);
    long value = Long.parseLong(api.get(nodes.get(0), "m/race/counter", "raw").text());
    assertTrue(value >= ok.get() && value <= ok.get() + unknown.get(),
        () -> "counter " + value + " but " + ok + " increments succeeded and " + unknown + " are unknown");
    if (unknown.get() == 0) {
      assertEquals(CLIENTS * 40, value);
    }
  }

  @Test
  void compareAndSetLetsExactlyOneWriterWinEachVersion() throws Exception {
    api.put(nodes.get(0), "m/race/cas", "0");
    AtomicInteger won = new AtomicInteger();
    AtomicInteger lost = new AtomicInteger();
    AtomicInteger unknown = new AtomicInteger();
    race(25, (client, i) -> {
      String node = nodes.get((client + i) % 3);
      Resp current = api.get(node, "m/race/cas", "raw");
      assertEquals(200, current.status(), current::toString);
      long version = Long.parseLong(current.header("X-Flotilla-Version"));
      long next = Long.parseLong(current.text()) + 1;
      Resp put = api.put(node, "m/race/cas", Long.toString(next).getBytes(StandardCharsets.UTF_8),
          "if_version=" + version);
      switch (put.status()) {
        case 200 -> won.incrementAndGet();
        case 409 -> {
          lost.incrementAndGet();
          assertTrue(put.json().get("current_version").asLong() > version, put::toString);
        }
        case 504 -> unknown.incrementAndGet();
        default -> throw new AssertionError("unexpected answer " + put);
      }
    });
    long value = Long.parseLong(api.get(nodes.get(1), "m/race/cas", "raw").text());
    assertTrue(value >= won.get() && value <= won.get() + unknown.get(),
        () -> "value " + value + " after " + won + " successful CAS writes (" + unknown + " unknown)");
    assertTrue(won.get() > 0 && lost.get() > 0, () -> "a race needs winners and losers: " + won + "/" + lost);
  }

  @Test
  void transfersAcrossRangesConserveTheTotalAndNoReaderSeesHalfATransfer() throws Exception {
    List<String> accounts = new ArrayList<>();
    for (String range : List.of("c", "j", "q", "x")) {
      for (int i = 0; i < 2; i++) {
        accounts.add(range + "/bank/" + i);
      }
    }
    for (String a : accounts) {
      assertEquals(200, api.put(nodes.get(0), a, "100").status());
    }
    long total = 100L * accounts.size();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger transfers = new AtomicInteger();
    AtomicInteger snapshots = new AtomicInteger();
    Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
    List<String> anomalies = new CopyOnWriteArrayList<>();
    String readAll = batchOf(accounts.stream().map(a -> "{\"op\":\"get\",\"key\":\"" + a + "\"}").toList());
    Thread readers = new Thread(() -> {
      for (int n = 0; !stop.get(); n++) {
        Resp r = api.batch(nodes.get(n % 3), readAll);
        answers.computeIfAbsent("read " + r.status(), k -> new AtomicInteger()).incrementAndGet();
        if (r.status() == 200) {
          long sum = 0;
          for (JsonNode item : r.json().get("results")) {
            sum += Long.parseLong(new String(Base64.getDecoder().decode(item.get("value").asText()), StandardCharsets.UTF_8));
          }
          snapshots.incrementAndGet();
          if (sum != total) {
            anomalies.add("an atomic read of every account summed to " + sum + ": " + r.json());
          }
        }
      }
    });
    readers.start();
    try {
      race(15, (client, i) -> {
        Random random = new Random(client * 1000L + i);
        String from = accounts.get(random.nextInt(accounts.size()));
        String to = accounts.get(random.nextInt(accounts.size()));
        while (to.charAt(0) == from.charAt(0)) {
          to = accounts.get(random.nextInt(accounts.size()));
        }
        String node = nodes.get(random.nextInt(3));
        Resp read = api.batch(node, batchOf(List.of("{\"op\":\"get\",\"key\":\"" + from + "\"}",
            "{\"op\":\"get\",\"key\":\"" + to + "\"}")));
        answers.computeIfAbsent("pair read " + read.status(), k -> new AtomicInteger()).incrementAndGet();
        if (read.status() != 200) {
          return;
        }
        JsonNode f = read.json().get("results").get(0);
        JsonNode t = read.json().get("results").get(1);
        long amount = 1 + random.nextInt(20);
        long fromBalance = Long.parseLong(unb64(f.get("value")));
        long toBalance = Long.parseLong(unb64(t.get("value")));
        Resp move = api.batch(node, batchOf(List.of(
            put(from, fromBalance - amount, f.get("version").asLong()),
            put(to, toBalance + amount, t.get("version").asLong()))));
        answers.computeIfAbsent("transfer " + move.status(), k -> new AtomicInteger()).incrementAndGet();
        if (move.status() == 200) {
          transfers.incrementAndGet();
        } else if (move.status() != 409 && move.status() != 503 && move.status() != 504) {
          anomalies.add("unexpected transfer answer " + move);
        }
      });
    } finally {
      stop.set(true);
      readers.join();
    }
    System.out.println("AtomicityIT bank: " + transfers + " transfers, " + snapshots + " snapshot reads, answers " + answers);
    assertTrue(anomalies.isEmpty(), () -> anomalies.size() + " anomalies, first: " + anomalies.get(0));
    assertTrue(transfers.get() > 0 && snapshots.get() > 0, () -> "too little happened: " + answers);
    long sum = 0;
    for (String a : accounts) {
      Resp r = api.get(nodes.get(2), a, "raw");
      assertEquals(200, r.status(), r::toString);
      sum += Long.parseLong(r.text());
    }
    assertEquals(total, sum, "money was created or destroyed");
  }

  private static String put(String key, long value, long version) {
    return "{\"op\":\"put\",\"key\":\"" + key + "\",\"value\":\""
        + Base64.getEncoder().encodeToString(Long.toString(value).getBytes(StandardCharsets.UTF_8))
        + "\",\"if_version\":" + version + "}";
  }

  private static String batchOf(List<String> ops) {
    return "{\"atomic\": true, \"ops\": [" + String.join(",", ops) + "]}";
  }

  private static String unb64(JsonNode n) {
    return new String(Base64.getDecoder().decode(n.asText()), StandardCharsets.UTF_8);
  }
}
