package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.testcluster.ApiClient.Resp;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A node with more writes than its queues hold, or more large request bodies than it reads at
 * once, refuses the rest with API.md's 429 {@code overloaded} and a {@code Retry-After}; a
 * refused write changes nothing, and every write it accepted is there. The cluster's bounds are
 * set tiny: one waiting request per range's queue, and one large body read at a time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackpressureIT {
  private static final int SUBNET = 38;
  private static final int CONCURRENT = 96;
  private static final int LARGE = 100_000;

  private ProcessCluster cluster;
  private ApiClient api;
  private List<String> nodes;

  @BeforeAll
  void startCluster() throws Exception {
    // Queues of one request per range; request bodies of 64 KiB or more read one at a time.
    cluster = ProcessCluster.start("backpressure", SUBNET, 3,
        Map.of("limits", Map.of("maxQueuedPerRange", 1, "maxBodyBytesInFlight", 1)));
    api = cluster.api();
    nodes = cluster.nodeIds().stream().map(cluster::url).toList();
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aBurstPastTheQueuesGets429sThatChangedNothingAndEveryAcceptedWriteIsThere() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT);
    try {
      Map<String, Integer> answered = new LinkedHashMap<>();
      int refused = 0;
      for (int wave = 0; wave < 5 && refused == 0; wave++) {
        int refusedBefore = refused;
        List<String> keys = new ArrayList<>();
        List<Future<Resp>> puts = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
          String key = "bp/" + wave + "/" + i;
          String node = nodes.get(i % nodes.size());
          keys.add(key);
          puts.add(pool.submit(() -> api.put(node, key, "v-" + key)));
        }
        for (int i = 0; i < keys.size(); i++) {
          Resp r = puts.get(i).get();
          answered.put(keys.get(i), r.status());
          if (r.status() == 429) {
            refused++;
            assertEquals("overloaded", r.json().path("error").asText(), r::toString);
            assertFalse(r.json().path("message").asText().isBlank(), r::toString);
            assertNotNull(r.header("Retry-After"), () -> "a 429 without Retry-After: " + r);
          } else {
            assertEquals(200, r.status(), () -> "a put answered neither 200 nor 429: " + r);
          }
        }
        System.out.printf("burst %d: %d puts, %d refused with 429%n", wave, CONCURRENT, refused - refusedBefore);
      }
      assertTrue(refused > 0, "bursts of " + CONCURRENT + " concurrent puts into queues of one never overflowed them");
      assertTrue(answered.containsValue(200), "no put of the bursts was accepted");

      // Strong reads, one at a time, through another node than most writes went to.
      for (Map.Entry<String, Integer> e : answered.entrySet()) {
        Resp get = api.get(nodes.get(1), e.getKey());
        if (e.getValue() == 200) {
          assertEquals(200, get.status(), () -> "accepted write of " + e.getKey() + " lost: " + get);
          String value = new String(Base64.getDecoder().decode(get.json().path("value").asText()));
          assertEquals("v-" + e.getKey(), value);
        } else {
          assertEquals(404, get.status(), () -> "a write refused with 429 was applied: " + e.getKey() + " " + get);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private long bodyBytesReading(String node) {
    return api.raw("GET", node + "/admin/metrics", null).json().path("gauges")
        .path(io.flotilla.api.resources.BodyBudget.READING_GAUGE).path("value").asLong(-1);
  }

  /**
   * A put whose body is still on its way holds the node's body budget (set to one body here);
   * a large put meanwhile is refused before its body is read, and the first one completes.
   */
  @Test
  void aLargeBodyTheNodeHasNoRoomToReadIsRefusedUnreadAndChangesNothing() throws Exception {
    URI n1 = URI.create(nodes.get(0));
    byte[] slow = new byte[LARGE];
    Arrays.fill(slow, (byte) 's');
    try (Socket socket = new Socket(n1.getHost(), n1.getPort())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(("PUT /v1/kv/bp-large/slow HTTP/1.1\r\nHost: " + n1.getHost() + "\r\nContent-Length: " + LARGE
          + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(slow, 0, 1000);
      out.flush();

      // Once the node reads the slow body, every other large put is refused until it is done.
      long waitedFor = System.nanoTime() + 10_000_000_000L;
      while (bodyBytesReading(nodes.get(0)) < LARGE && System.nanoTime() < waitedFor) {
        Thread.sleep(20);
      }
      assertTrue(bodyBytesReading(nodes.get(0)) >= LARGE, "the node never took up the slow put");
      byte[] large = new byte[LARGE];
      Arrays.fill(large, (byte) 'x');
      Resp refused = api.put(nodes.get(0), "bp-large/other", large, null);
      assertEquals(429, refused.status(), refused::toString);
      assertEquals("overloaded", refused.json().path("error").asText(), refused.toString());
      assertNotNull(refused.header("Retry-After"), refused::toString);
      assertEquals(404, api.get(nodes.get(1), "bp-large/other").status(), "a put refused unread was applied");

      out.write(slow, 1000, LARGE - 1000);
      out.flush();
      String status = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
          .readLine();
      assertEquals("HTTP/1.1 200 OK", status);
    }
    Resp slowRead = api.get(nodes.get(1), "bp-large/slow", "raw");
    assertEquals(200, slowRead.status(), slowRead::toString);
    assertArrayEquals(slow, slowRead.body());
    assertEquals(200, api.put(nodes.get(0), "bp-large/after", new byte[LARGE], null).status(),
        "the budget is free again once the slow put was read");
  }

  /**
   * With its range's queue full, a large put whose client waits for {@code 100 Continue} is
   * refused before its body is sent: the node answers 429 at once, never asking for the body,
   * and closes the connection (in case the body comes anyway). Two nodes paused leave the third
   * without a quorum, so its one put under way stays under way and the next one waits.
   */
  @Test
  void aLargePutIntoAFullQueueIsRefusedBeforeItsBodyIsRead() throws Exception {
    String n1 = nodes.get(0);
    assertEquals(200, api.put(n1, "bp-unread/awake", "w").status(), "the range is awake and has a leader");
    // n1 leads the range, so its own queue holds the writes whichever way its view of the leader goes.
    com.fasterxml.jackson.databind.JsonNode range = api.raw("GET", n1 + "/v1/admin/ranges?key=bp-unread/large", null).json();
    Resp moved = api.admin("POST", n1 + "/v1/admin/ranges/" + range.get("id").asLong() + "/transfer-leader",
        "{\"to\": \"n1\"}".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, moved.status(), moved::toString);
    List<String> paused = cluster.nodeIds().subList(1, 3);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<String> head = new ArrayList<>();
    StringBuilder body = new StringBuilder();
    try {
      for (String id : paused) {
        cluster.pause(id);
      }
      pool.submit(() -> api.put(n1, "bp-unread/under-way", "1"));
      Thread.sleep(300);
      pool.submit(() -> api.put(n1, "bp-unread/waiting", "2"));
      Thread.sleep(300);

      URI n = URI.create(n1);
      try (Socket socket = new Socket(n.getHost(), n.getPort())) {
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write(("PUT /v1/kv/bp-unread/large HTTP/1.1\r\nHost: " + n.getHost() + "\r\nContent-Length: " + LARGE
            + "\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        int length = 0;
        for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
          head.add(line.toLowerCase(java.util.Locale.ROOT));
          if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
            length = Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
          }
        }
        for (int i = 0; i < length; i++) {
          body.append((char) in.read());
        }
      }
    } finally {
      for (String id : paused) {
        cluster.resume(id);
      }
      pool.shutdownNow();
    }
    assertFalse(head.isEmpty(), "no answer to a put waiting for 100 Continue");
    assertTrue(head.get(0).startsWith("http/1.1 429"), () -> "answered " + head);
    assertTrue(head.contains("connection: close"), () -> "the connection must close after a body left unread: " + head);
    assertTrue(head.stream().anyMatch(h -> h.startsWith("retry-after:")), () -> "no Retry-After: " + head);
    assertTrue(body.toString().contains("no room for more writes"), () -> "refused by its range's queue: " + body);

    cluster.awaitReady(java.time.Duration.ofSeconds(60));
    Resp large = api.get(nodes.get(1), "bp-unread/large");
    assertEquals(404, large.status(), () -> "a put refused unread was applied: " + large);
  }
}
