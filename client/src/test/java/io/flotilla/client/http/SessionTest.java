package io.flotilla.client.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Sessions against a {@link FakeCluster} whose followers lag: node 1 applies what it receives,
 * nodes 2 and 3 stay behind unless a read's {@code min_revision} makes them catch up.
 */
class SessionTest {
  private FakeCluster cluster;
  private final ManualClock clock = new ManualClock();
  private FlotillaClient client;

  @AfterEach
  void close() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Three nodes, ranges 1 ["", g), 2 [g, n), 3 [n, +inf). */
  private void start() throws Exception {
    cluster = new FakeCluster(3, "g", "n");
    client = FlotillaClient.builder().nodes(cluster.urls()).backoff(Duration.ofMillis(1), Duration.ofMillis(5))
        .routingRefresh(Duration.ofSeconds(30)).clock(clock).build();
  }

  private String url(int node) {
    return cluster.node(node).url();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** The min_revision of the last key read node {@code node} got for {@code key}, or null. */
  private String lastMinRevision(int node, String key) {
    List<FakeCluster.Request> reads = cluster.node(node).received("GET", "/v1/kv/" + key);
    return reads.get(reads.size() - 1).param("min_revision");
  }

  @Test
  void aStaleReadOnAnotherNodeSeesTheSessionsWriteBecauseItCarriesTheWritesRevision() throws Exception {
    start();
    client.onNode(url(1)).put("k", utf8("old")).join();
    cluster.catchUpAll();
    // control: without a session, the lagging node 2 answers with what it has
    client.onNode(url(1)).put("k", utf8("new")).join();
    assertEquals("old", client.onNode(url(2)).get("k", Consistency.STALE).join().orElseThrow().valueUtf8());

    Session session = client.newSession();
    PutResult put = session.onNode(url(1)).put("k", utf8("mine")).join();
    KeyValue read = session.onNode(url(3)).get("k", Consistency.STALE).join().orElseThrow();
    assertEquals("mine", read.valueUtf8());
    assertEquals(Long.toString(put.revision()), lastMinRevision(3, "k"));
  }

  @Test
  void eachReadSendsTheFloorOfItsKeysOwnRangeAndStrongReadsSendNone() throws Exception {
    start();
    Session session = client.newSession().onNode(url(1));
    for (int i = 0; i < 3; i++) {
      session.put("a" + i, utf8("v")).join(); // range 1 reaches revision 3
    }
    long h = session.put("h", utf8("v")).join().revision(); // range 2: revision 1
    assertEquals(1, h);

    Session on2 = session.onNode(url(2));
    on2.get("h", Consistency.STALE).join();
    assertEquals("1", lastMinRevision(2, "h"), "range 2's floor, not the session's highest revision");
    on2.get("a0", Consistency.FOLLOWER).join();
    assertEquals("3", lastMinRevision(2, "a0"));
    on2.get("a0", Consistency.STRONG).join();
    assertNull(lastMinRevision(2, "a0"));
    assertEquals(Map.of(1L, 3L, 2L, 1L), session.floors().join());
  }

  @Test
  void readsRaiseTheFloorSoALaterReadElsewhereNeverGoesBack() throws Exception {
    start();
    FlotillaClient on1 = client.onNode(url(1));
    on1.put("k", utf8("v1")).join();
    cluster.catchUpAll();
    long latest = on1.put("k", utf8("v2")).join().version(); // only node 1 has it

    Session session = client.newSession();
    assertEquals("v2", session.onNode(url(1)).get("k", Consistency.STALE).join().orElseThrow().valueUtf8());
    KeyValue later = session.onNode(url(2)).get("k", Consistency.STALE).join().orElseThrow();
    assertEquals(latest, later.version(), "node 2 had to catch up to what the session already saw");
    assertEquals(Long.toString(latest), lastMinRevision(2, "k"));
    // control: node 3 on its own still serves the older version
    assertEquals("v1", client.onNode(url(3)).get("k", Consistency.STALE).join().orElseThrow().valueUtf8());
  }

  @Test
  void aNotFoundStaleReadRaisesTheFloorThroughTheAppliedRevisionHeader() throws Exception {
    start();
    FlotillaClient on1 = client.onNode(url(1));
    on1.put("b", utf8("there")).join();
    cluster.catchUpAll();
    long deletedAt = on1.delete("b").join().revision();

    Session session = client.newSession();
    assertTrue(session.onNode(url(1)).get("b", Consistency.STALE).join().isEmpty());
    assertTrue(session.onNode(url(2)).get("b", Consistency.STALE).join().isEmpty(),
        "a session that saw the key gone must not see it again");
    assertEquals(Long.toString(deletedAt), lastMinRevision(2, "b"));
    assertTrue(client.onNode(url(3)).get("b", Consistency.STALE).join().isPresent(), "control: node 3 lags");
    assertTrue(session.onNode(url(3)).version("b", Consistency.STALE).join().isEmpty(), "HEAD keeps the floor too");
  }

  @Test
  void aFailedConditionAndBatchResultsRaiseTheFloor() throws Exception {
    start();
    FlotillaClient on1 = client.onNode(url(1));
    long v = 0;
    for (int i = 0; i < 4; i++) {
      v = on1.put("k", utf8("v" + i)).join().version();
    }
    Session session = client.newSession();
    FlotillaClientException conflict = FlotillaClientTest.failure(session.onNode(url(1)).put("k", utf8("x"),
        PutOptions.ifVersion(1)));
    assertEquals(v, conflict.currentVersion().getAsLong());
    assertEquals(v, session.floorOf("k").join());

    BatchResult r = session.onNode(url(1)).batch(false, List.of(BatchOp.put("h1", utf8("x")),
        BatchOp.put("p1", utf8("y")), BatchOp.put("p2", utf8("z")))).join();
    assertEquals(3, r.succeeded());
    assertEquals(v + 1, session.floorOf("h9").join(), "h1 and k share range 2");
    assertEquals(2, session.floorOf("p9").join());
    assertEquals("z", session.onNode(url(2)).get("p2", Consistency.STALE).join().orElseThrow().valueUtf8());
  }

  @Test
  void aSplitChildStartsAtItsParentsFloor() throws Exception {
    start();
    Session session = client.newSession().onNode(url(1));
    long r = 0;
    for (int i = 0; i < 5; i++) {
      r = session.put("a" + i, utf8("v")).join().revision();
    }
    long d = session.put("d", utf8("in the upper half")).join().revision();
    assertEquals(6, d);

    cluster.split(1, "c", 9); // range 9 = [c, g) inherits revision 6
    int listings = cluster.requests("/v1/admin/ranges").size();
    clock.advance(Duration.ofSeconds(31));
    session.floorOf("d").join(); // a session call on an old listing starts a refresh
    awaitTrue(() -> cluster.requests("/v1/admin/ranges").size() > listings);
    awaitTrue(() -> session.floors().join().containsKey(9L));
    assertEquals(Map.of(1L, d, 9L, d), session.floors().join());

    assertEquals("in the upper half", session.onNode(url(2)).get("d", Consistency.STALE).join().orElseThrow()
        .valueUtf8());
    assertEquals(Long.toString(d), lastMinRevision(2, "d"));
    assertTrue(r < d);
  }

  @Test
  void aSessionScanReadsEachRangeWithItsOwnFloorAndPagesAcrossRanges() throws Exception {
    start();
    Session session = client.newSession();
    Session on1 = session.onNode(url(1));
    List<String> keys = List.of("a1", "a2", "a3", "h1", "p1", "p2"); // floors: range 1 -> 3, 2 -> 1, 3 -> 2
    for (String k : keys) {
      on1.put(k, utf8("v-" + k)).join();
    }
    Session on2 = session.onNode(url(2));
    ScanRequest scan = ScanRequest.all().withConsistency(Consistency.STALE).withLimit(2);
    List<ScanItem> items = on2.scanAll(scan).join();
    assertEquals(keys, items.stream().map(ScanItem::key).toList(), "node 2 lagged, yet the session sees every write");
    assertEquals("v-h1", items.get(3).valueUtf8());

    Map<String, Long> floorOfRangeStarting = Map.of("", 3L, "g", 1L, "n", 2L);
    List<FakeCluster.Request> scans = cluster.node(2).received("GET", "/v1/kv").stream()
        .filter(q -> q.path().equals("/v1/kv")).toList();
    assertTrue(scans.size() >= 3);
    for (FakeCluster.Request q : scans) {
      String start = q.params().getOrDefault("start", "");
      String rangeStart = start.compareTo("n") >= 0 ? "n" : start.compareTo("g") >= 0 ? "g" : "";
      String rangeEnd = rangeStart.equals("") ? "g" : rangeStart.equals("g") ? "n" : null;
      assertEquals(Long.toString(floorOfRangeStarting.get(rangeStart)), q.param("min_revision"), q::toString);
      if (rangeEnd != null) {
        assertTrue(q.param("end") != null && q.param("end").compareTo(rangeEnd) <= 0, () -> "crosses a range: " + q);
      }
    }

    List<ScanItem> backwards = session.onNode(url(3)).scanAll(scan.withReverse(true)).join();
    List<String> reversed = new ArrayList<>(keys);
    java.util.Collections.reverse(reversed);
    assertEquals(reversed, backwards.stream().map(ScanItem::key).toList());
    ScanPage first = on2.scan(ScanRequest.prefix("a").withConsistency(Consistency.STALE).withLimit(2)).join();
    assertEquals(List.of("a1", "a2"), first.items().stream().map(ScanItem::key).toList());
    assertEquals(List.of("a3"), on2.scan(ScanRequest.prefix("a").withConsistency(Consistency.STALE).withLimit(2)
        .withCursor(first.cursor())).join().items().stream().map(ScanItem::key).toList());
    assertEquals("invalid_argument", FlotillaClientTest.failure(on2.scan(ScanRequest.all().withCursor("bogus")))
        .code());
  }

  @Test
  void concurrentUseLeavesEachFloorAtTheHighestRevisionSeen() throws Exception {
    start();
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      Session session = client.newSession().onNode(url(1));
      List<CompletableFuture<Void>> writers = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        writers.add(CompletableFuture.runAsync(() -> {
          for (int i = 0; i < 25; i++) {
            session.put("a/" + thread + "/" + i, utf8("v")).join();
          }
        }, threads));
      }
      CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).join();
      assertEquals(200, cluster.revisionOf(1));
      assertEquals(200, session.floorOf("a").join());
    } finally {
      threads.shutdownNow();
    }
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 5 s");
      }
      Thread.sleep(5);
    }
  }

  /** A clock tests move by hand. */
  static final class ManualClock extends Clock {
    private final AtomicLong millis = new AtomicLong(1_000_000);

    void advance(Duration d) {
      millis.addAndGet(d.toMillis());
    }

    @Override
    public long millis() {
      return millis.get();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
