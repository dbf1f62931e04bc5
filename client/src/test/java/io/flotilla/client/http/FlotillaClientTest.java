package io.flotilla.client.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.client.http.FakeCluster.Behavior;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FlotillaClientTest {
  private FakeCluster cluster;

  @AfterEach
  void close() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private FlotillaClient client(Duration timeout) {
    return FlotillaClient.builder().nodes(cluster.urls()).requestTimeout(timeout)
        .backoff(Duration.ofMillis(1), Duration.ofMillis(5)).build();
  }

  private FlotillaClient client() {
    return client(Duration.ofSeconds(5));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** The exception a future failed with. */
  static FlotillaClientException failure(CompletableFuture<?> f) {
    CompletionException e = assertThrows(CompletionException.class, f::join);
    return assertInstanceOf(FlotillaClientException.class, e.getCause(), () -> "failed with " + e.getCause());
  }

  @Test
  void putThenGetRoundTripsBytesVersionRevisionAndExpiryForAnyKey() throws Exception {
    cluster = new FakeCluster(1);
    FlotillaClient client = client();
    String key = "users/42/nick name é+%";
    byte[] value = {0, -1, 10, 'x'};

    PutResult put = client.put(key, value, PutOptions.ttl(Duration.ofMillis(29_500))).join();
    assertEquals(key, put.key());
    assertTrue(put.version() > 0 && put.revision() > 0);
    assertNotNull(put.expiresAt());
    FakeCluster.Request sent = cluster.node(1).received("PUT", "/v1/kv/").get(0);
    assertEquals("/v1/kv/" + key, sent.path(), "the key arrives intact, '/' included");
    assertEquals("30", sent.param("ttl"), "a TTL is rounded up to whole seconds");
    assertArrayEquals(value, sent.body());

    KeyValue got = client.get(key).join().orElseThrow();
    assertArrayEquals(value, got.value());
    assertEquals(put.version(), got.version());
    assertEquals(put.revision(), got.revision());
    assertEquals(put.expiresAt(), got.expiresAt());
    FakeCluster.Request read = cluster.node(1).received("GET", "/v1/kv/").get(0);
    assertNull(read.param("consistency"), "strong is the default and needs no parameter");
    assertNull(read.param("min_revision"));
    assertEquals(put.version(), client.version(key, Consistency.STALE).join().getAsLong());
  }

  @Test
  void aTokenGoesWithEveryRequestAndARefusalForItIsNotRetried() throws Exception {
    cluster = new FakeCluster(3);
    cluster.requiredToken = "a-token-of-sixteen+";
    FlotillaClient authed = FlotillaClient.builder().nodes(cluster.urls()).token("a-token-of-sixteen+")
        .backoff(Duration.ofMillis(1), Duration.ofMillis(5)).build();
    authed.put("k", utf8("v"), PutOptions.none()).join();
    assertArrayEquals(utf8("v"), authed.get("k").join().orElseThrow().value());
    assertEquals("Bearer a-token-of-sixteen+", cluster.node(1).received("GET", "/v1/kv/").get(0).authorization());

    FlotillaClientException refused = failure(client().get("k"));
    assertEquals("unauthenticated", refused.code());
    assertEquals(401, refused.status());
    int sent = 0;
    for (int n = 1; n <= 3; n++) {
      sent += cluster.node(n).received("GET", "/v1/kv/").size();
    }
    assertEquals(2, sent, "the refused get went to one node once, not to the others");
    assertThrows(IllegalArgumentException.class, () -> FlotillaClient.builder().token(" "));
  }

  @Test
  void aMissingKeyIsEmptyAndFailedConditionsCarryTheCurrentVersion() throws Exception {
    cluster = new FakeCluster(1);
    FlotillaClient client = client();
    assertEquals(Optional.empty(), client.get("nope").join());
    assertTrue(client.version("nope", Consistency.STRONG).join().isEmpty());

    long v1 = client.put("cas", utf8("one"), PutOptions.mustNotExist()).join().version();
    FlotillaClientException exists = failure(client.put("cas", utf8("two"), PutOptions.mustNotExist()));
    assertEquals("version_conflict", exists.code());
    assertEquals(409, exists.status());
    assertEquals(v1, exists.currentVersion().getAsLong());
    assertFalse(exists.isOutcomeUnknown());
    assertEquals("0", cluster.node(1).received("PUT", "/v1/kv/cas").get(1).param("if_version"));

    FlotillaClientException stale = failure(client.delete("cas", v1 + 5));
    assertEquals(v1, stale.currentVersion().getAsLong());
    assertTrue(client.delete("cas", v1).join().deleted());
    assertFalse(client.delete("cas").join().deleted());
  }

  @Test
  void errorBodiesMapToTheApiCodeStatusAndMessage() throws Exception {
    cluster = new FakeCluster(1);
    FlotillaClient client = client();
    client.put("word", utf8("hello")).join();
    FlotillaClientException notANumber = failure(client.incr("word", 2));
    assertEquals("unprocessable", notANumber.code());
    assertEquals(422, notANumber.status());
    assertTrue(notANumber.getMessage().contains("not a decimal integer"), notANumber::getMessage);

    cluster.node(1).respondNext(400, "{\"error\":\"invalid_argument\",\"message\":\"ttl must be positive\"}");
    FlotillaClientException bad = failure(client.put("k", utf8("v")));
    assertEquals("invalid_argument", bad.code());
    assertEquals(400, bad.status());
    assertTrue(bad.getMessage().contains("ttl must be positive"));

    cluster.node(1).respondNext(500, "{\"error\":\"internal\",\"message\":\"see the node's log\"}");
    assertEquals("internal", failure(client.get("k")).code());

    assertEquals(7, client.incr("counter", 7).join().value());
    assertEquals(8, client.incr("counter").join().value());
    assertEquals("{\"delta\":7}", new String(cluster.node(1).received("POST", "/v1/kv/counter/incr").get(0).body(),
        StandardCharsets.UTF_8));
  }

  @Test
  void aRefusedConnectionFailsOverToTheNextNodeAndStaysThere() throws Exception {
    cluster = new FakeCluster(3);
    cluster.node(1).stop();
    FlotillaClient client = client();
    client.put("k", utf8("v")).join();
    assertEquals(1, cluster.node(2).received("PUT", "/v1/kv/k").size());
    assertEquals("v", client.get("k").join().orElseThrow().valueUtf8());
    assertEquals(1, cluster.node(2).received("GET", "/v1/kv/k").size(), "the next request goes to the node that answered");
    assertEquals(0, cluster.node(3).received.size());
  }

  @Test
  void a503FailsOverForWritesTooBecauseNothingWasApplied() throws Exception {
    cluster = new FakeCluster(2);
    cluster.node(1).behave(Behavior.UNAVAILABLE);
    FlotillaClient client = client();
    PutResult put = client.put("k", utf8("v")).join();
    assertEquals(1, cluster.node(1).received("PUT", "/v1/kv/k").size());
    assertEquals(1, cluster.node(2).received("PUT", "/v1/kv/k").size());
    assertEquals(1, put.revision(), "applied exactly once");
  }

  @Test
  void aWriteThatTimedOutIsOutcomeUnknownAndNeverSentAgain() throws Exception {
    cluster = new FakeCluster(2);
    cluster.node(1).behave(Behavior.HANG);
    FlotillaClient client = client(Duration.ofMillis(300));
    FlotillaClientException e = failure(client.put("k", utf8("v")));
    assertInstanceOf(OutcomeUnknownException.class, e);
    assertTrue(e.isOutcomeUnknown());
    assertEquals("timeout", e.code());
    assertEquals(0, e.status(), "no HTTP answer came");
    assertEquals(1, cluster.node(1).received("PUT", "/v1/kv/k").size());
    assertEquals(0, cluster.node(2).received("PUT", "/v1/kv/k").size(), "an ambiguous write is never retried blindly");
  }

  @Test
  void aWriteWhoseConnectionBrokeAfterSendingIsOutcomeUnknown() throws Exception {
    cluster = new FakeCluster(2);
    cluster.node(1).behave(Behavior.RESET);
    FlotillaClient client = client();
    assertTrue(failure(client.put("k", utf8("v"))).isOutcomeUnknown());
    assertTrue(failure(client.incr("n", 1)).isOutcomeUnknown());
    assertTrue(failure(client.batch(false, List.of(BatchOp.delete("k")))).isOutcomeUnknown());
    assertEquals(0, cluster.node(2).received.size(), "no write went to the second node");
    assertEquals(3, cluster.node(1).received.size());
  }

  @Test
  void readsThatBrokeOrTimedOutAreRetriedOnTheNextNode() throws Exception {
    cluster = new FakeCluster(2);
    cluster.replicateAtOnce = true;
    FlotillaClient client = client(Duration.ofMillis(300));
    client.onNode(cluster.node(2).url()).put("k", utf8("v")).join();
    cluster.node(1).behave(Behavior.RESET);
    assertEquals("v", client.get("k").join().orElseThrow().valueUtf8());
    cluster.node(2).behave(Behavior.HANG);
    cluster.node(1).behave(Behavior.NORMAL);
    assertEquals("v", client.get("k", Consistency.STALE).join().orElseThrow().valueUtf8());
    // (the JDK's HTTP client itself may resend a GET once on a connection closed early, so node 1
    // can have seen the first read twice; what matters is that node 2 answered both)
    assertTrue(cluster.node(1).received("GET", "/v1/kv/k").size() >= 2);
    assertEquals(2, cluster.node(2).received("GET", "/v1/kv/k").size());
    // a batch of gets is a read, so it fails over as well
    cluster.node(1).behave(Behavior.RESET);
    cluster.node(2).behave(Behavior.NORMAL);
    assertTrue(client.batch(true, List.of(BatchOp.get("k"))).join().results().get(0).found());
  }

  @Test
  void a504IsOutcomeUnknownForAWriteAndAPlainTimeoutForAReadAndNeitherIsRetried() throws Exception {
    cluster = new FakeCluster(2);
    FlotillaClient client = client();
    String body = "{\"error\":\"timeout\",\"message\":\"the put did not complete; the outcome is unknown\"}";
    cluster.node(1).respondNext(504, body);
    FlotillaClientException write = failure(client.put("k", utf8("v")));
    assertInstanceOf(OutcomeUnknownException.class, write);
    assertEquals(504, write.status());
    assertEquals("timeout", write.code());

    cluster.node(1).respondNext(504, body);
    FlotillaClientException read = failure(client.get("k"));
    assertEquals("timeout", read.code());
    assertEquals(504, read.status());
    assertFalse(read.isOutcomeUnknown(), "a read changes nothing, so nothing is unknown");
    assertEquals(0, cluster.node(2).received.size());
  }

  @Test
  void attemptsAreBoundedWhenEveryNodeRefuses() throws Exception {
    cluster = new FakeCluster(3);
    for (int i = 1; i <= 3; i++) {
      cluster.node(i).behave(Behavior.UNAVAILABLE);
    }
    FlotillaClient client = FlotillaClient.builder().nodes(cluster.urls()).maxAttempts(4)
        .backoff(Duration.ofMillis(1), Duration.ofMillis(2)).build();
    FlotillaClientException e = failure(client.put("k", utf8("v")));
    assertEquals("unavailable", e.code());
    assertEquals(503, e.status());
    assertEquals(4, cluster.requests("/v1/kv/k").size());
    assertEquals(2, cluster.node(1).received.size(), "sends went round the nodes: 1, 2, 3, 1");

    cluster.node(1).stop();
    cluster.node(2).stop();
    cluster.node(3).stop();
    FlotillaClientException down = failure(client.get("k"));
    assertEquals("unavailable", down.code());
    assertEquals(0, down.status());
  }

  @Test
  void scanAllPagesThroughEveryKeyInOrderEitherWay() throws Exception {
    cluster = new FakeCluster(1, "g", "n");
    FlotillaClient client = client();
    List<String> keys = new ArrayList<>();
    for (char c = 'a'; c <= 'y'; c++) {
      keys.add("k" + c);
      client.put("k" + c, utf8("v" + c)).join();
    }
    client.put("other", utf8("x")).join();
    List<ScanItem> all = client.scanAll(ScanRequest.prefix("k").withLimit(7)).join();
    assertEquals(keys, all.stream().map(ScanItem::key).toList());
    assertEquals("va", all.get(0).valueUtf8());
    assertEquals(4, cluster.node(1).received("GET", "/v1/kv").stream().filter(r -> r.path().equals("/v1/kv")).count());
    assertEquals("7", cluster.node(1).received("GET", "/v1/kv").get(0).param("limit"));

    List<ScanItem> backwards = client.scanAll(ScanRequest.range("kc", "kf").withReverse(true).withKeysOnly(true))
        .join();
    assertEquals(List.of("ke", "kd", "kc"), backwards.stream().map(ScanItem::key).toList());
    assertNull(backwards.get(0).value(), "keys only");
  }

  @Test
  void batchesReportEachOpAndAnAtomicConflictNamesTheFailedOp() throws Exception {
    cluster = new FakeCluster(1);
    FlotillaClient client = client();
    long va = client.put("a", utf8("1")).join().version();
    BatchResult r = client.batch(false, List.of(BatchOp.put("b", utf8("2")), BatchOp.put("a", utf8("x"),
        PutOptions.ifVersion(va + 10)), BatchOp.get("a"), BatchOp.delete("zzz"), BatchOp.get("nope"))).join();
    assertEquals(4, r.succeeded());
    assertEquals(1, r.failed());
    assertTrue(r.results().get(0).ok());
    assertTrue(r.results().get(0).revision() > 0);
    FlotillaClientException conflict = r.results().get(1).error();
    assertEquals("version_conflict", conflict.code());
    assertEquals(409, conflict.status());
    assertEquals(va, conflict.currentVersion().getAsLong());
    assertEquals("1", new String(r.results().get(2).value(), StandardCharsets.UTF_8));
    assertFalse(r.results().get(3).deleted());
    assertFalse(r.results().get(4).found());

    FlotillaClientException atomic = failure(client.batch(true, List.of(BatchOp.put("c", utf8("3")),
        BatchOp.delete("a", va + 10))));
    assertEquals("version_conflict", atomic.code());
    assertEquals(1, atomic.failedIndex().getAsInt());
    assertEquals(va, atomic.currentVersion().getAsLong());
    assertTrue(client.get("c").join().isEmpty(), "nothing of the failed atomic batch applied");
  }

  @Test
  void deleteRangeAndDeletePrefixReportHowManyKeysWent() throws Exception {
    cluster = new FakeCluster(1);
    FlotillaClient client = client();
    for (String k : List.of("p/1", "p/2", "q/1", "r")) {
      client.put(k, utf8("v")).join();
    }
    assertEquals(2, client.deletePrefix("p/").join());
    assertEquals(1, client.deleteRange("q", "r").join());
    assertEquals(List.of("r"), client.scanAll(ScanRequest.all()).join().stream().map(ScanItem::key).toList());
    assertThrows(IllegalArgumentException.class, () -> client.deletePrefix(""));
  }
}
