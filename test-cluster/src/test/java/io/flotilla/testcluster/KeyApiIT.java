package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient.Resp;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every operation of API.md's "Keys" and "Batches" sections, with success and error cases,
 * against a real 3-node cluster of node processes (4 ranges cut at g, n, t).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyApiIT {
  private ProcessCluster cluster;
  private ApiClient api;
  private String n1;
  private String n2;
  private String n3;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = ProcessCluster.start("keyapi", 21, 3, Map.of());
    api = cluster.api();
    n1 = cluster.url("n1");
    n2 = cluster.url("n2");
    n3 = cluster.url("n3");
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String unb64(JsonNode n) {
    return new String(Base64.getDecoder().decode(n.asText()), StandardCharsets.UTF_8);
  }

  /** The value of one sample on the node's /metrics page (0 when absent). */
  private long rangeSample(String node, String sample) {
    for (String line : api.raw("GET", node + "/metrics", null).text().split("\n")) {
      if (line.startsWith(sample + " ")) {
        return (long) Double.parseDouble(line.substring(sample.length() + 1));
      }
    }
    return 0;
  }

  private static void assertError(Resp r, int status, String code) {
    assertEquals(status, r.status(), () -> "unexpected response " + r);
    JsonNode body = r.json();
    assertEquals(code, body.path("error").asText(), () -> "unexpected body " + r);
    assertFalse(body.path("message").asText().isBlank(), () -> "error without a message: " + r);
  }

  @Test
  void aPutOnOneNodeIsReadableFromTheOtherTwo() {
    Resp put = api.put(n1, "y/greeting", "hello");
    assertEquals(200, put.status(), put::toString);
    assertEquals("y/greeting", put.json().get("key").asText());
    assertTrue(put.json().get("version").asLong() > 0);
    assertTrue(put.json().get("revision").asLong() > 0);
    for (String node : List.of(n2, n3)) {
      Resp get = api.get(node, "y/greeting");
      assertEquals(200, get.status(), get::toString);
      assertEquals("hello", unb64(get.json().get("value")));
      assertEquals(put.json().get("version").asLong(), get.json().get("version").asLong());
      assertNotNull(get.header("X-Flotilla-Served-By"));
    }
  }

  @Test
  void versionsStrictlyIncreaseAndAreNeverReusedAfterDeleteAndRecreate() {
    long v1 = api.put(n1, "y/ver", "a").json().get("version").asLong();
    long v2 = api.put(n2, "y/ver", "b").json().get("version").asLong();
    assertTrue(v2 > v1);
    Resp del = api.delete(n3, "y/ver", "");
    assertEquals(200, del.status(), del::toString);
    assertTrue(del.json().get("deleted").asBoolean());
    assertError(api.get(n1, "y/ver"), 404, "not_found");
    long v3 = api.put(n1, "y/ver", "c").json().get("version").asLong();
    assertTrue(v3 > v2, "a re-created key must not reuse an old version");
  }

  @Test
  void compareAndSetFollowsIfVersion() {
    Resp created = api.put(n1, "y/cas", "one".getBytes(StandardCharsets.UTF_8), "if_version=0");
    assertEquals(200, created.status(), created::toString);
    long v = created.json().get("version").asLong();

    Resp exists = api.put(n2, "y/cas", "two".getBytes(StandardCharsets.UTF_8), "if_version=0");
    assertError(exists, 409, "version_conflict");
    assertEquals(v, exists.json().get("current_version").asLong());

    Resp stale = api.put(n2, "y/cas", "two".getBytes(StandardCharsets.UTF_8), "if_version=" + (v + 1000));
    assertError(stale, 409, "version_conflict");
    assertEquals("one", unb64(api.get(n3, "y/cas").json().get("value")), "a failed CAS changes nothing");

    Resp ok = api.put(n3, "y/cas", "two".getBytes(StandardCharsets.UTF_8), "if_version=" + v);
    assertEquals(200, ok.status(), ok::toString);
    long v2 = ok.json().get("version").asLong();

    assertError(api.delete(n1, "y/cas", "if_version=" + v), 409, "version_conflict");
    Resp del = api.delete(n1, "y/cas", "if_version=" + v2);
    assertEquals(200, del.status(), del::toString);
    Resp absent = api.delete(n1, "y/cas", "if_version=1");
    assertError(absent, 409, "version_conflict");
    assertEquals(0, absent.json().get("current_version").asLong(), "an absent key has current_version 0");
  }

  @Test
  void deleteSaysWhetherTheKeyExisted() {
    api.put(n1, "y/del", "x");
    assertTrue(api.delete(n2, "y/del", "").json().get("deleted").asBoolean());
    Resp again = api.delete(n2, "y/del", "");
    assertEquals(200, again.status());
    assertFalse(again.json().get("deleted").asBoolean());
    assertTrue(again.json().has("revision"));
  }

  @Test
  void headAndRawReadsCarryTheVersionInAHeader() {
    long v = api.put(n1, "y/raw", "bytes!").json().get("version").asLong();
    Resp head = api.head(n2, "y/raw");
    assertEquals(200, head.status());
    assertEquals(String.valueOf(v), head.header("X-Flotilla-Version"));
    assertEquals(404, api.head(n2, "y/raw-missing").status());
    Resp raw = api.get(n3, "y/raw", "raw");
    assertEquals(200, raw.status());
    assertEquals("bytes!", raw.text());
    assertEquals(String.valueOf(v), raw.header("X-Flotilla-Version"));
  }

  @Test
  void incrementCountsFromZeroAndRefusesNonIntegers() {
    Resp first = api.incr(n1, "y/counter", null);
    assertEquals(200, first.status(), first::toString);
    assertEquals(1, first.json().get("value").asLong());
    assertEquals(11, api.incr(n2, "y/counter", "{\"delta\": 10}").json().get("value").asLong());
    assertEquals(4, api.incr(n3, "y/counter", "{\"delta\": -7}").json().get("value").asLong());
    assertEquals("4", api.get(n1, "y/counter", "raw").text());

    api.put(n1, "y/notanumber", "twelve");
    assertError(api.incr(n2, "y/notanumber", null), 422, "unprocessable");
    assertEquals("twelve", api.get(n1, "y/notanumber", "raw").text());
    assertError(api.incr(n2, "y/counter", "{\"delta\": \"x\"}"), 400, "invalid_argument");
    assertError(api.incr(n2, "y/counter", "{not json"), 400, "invalid_argument");
    assertEquals("4", api.get(n1, "y/counter", "raw").text());
  }

  @Test
  void aKeyWithATtlReportsItsExpiryAndDisappearsAfterIt() throws InterruptedException {
    Resp put = api.put(n1, "y/ttl", "brief".getBytes(StandardCharsets.UTF_8), "ttl=1");
    assertEquals(200, put.status(), put::toString);
    assertTrue(put.json().has("expires_at"));
    long deadline = System.nanoTime() + 10_000_000_000L;
    int status = 200;
    while (status == 200 && System.nanoTime() < deadline) {
      Thread.sleep(200);
      status = api.get(n2, "y/ttl").status();
    }
    assertEquals(404, status, "an expired key must not be returned");
    assertEquals(404, api.head(n3, "y/ttl").status());
  }

  @Test
  void expiredKeysAreRemovedFromStorageOnEveryReplica() throws InterruptedException {
    long before = minKeyCount(4);
    // The TTL leaves room for 40 puts and a status read on a busy machine before the first expiry.
    for (int i = 0; i < 40; i++) {
      assertEquals(200, api.put(n2, "z/gc/" + i, "v".getBytes(StandardCharsets.UTF_8), "ttl=6").status());
    }
    assertTrue(maxKeyCount(4) >= before + 40, "the keys are stored");
    long deadline = System.nanoTime() + 40_000_000_000L;
    while (maxKeyCount(4) > before && System.nanoTime() < deadline) {
      Thread.sleep(250);
    }
    long after = maxKeyCount(4);
    assertTrue(after <= before, () -> "the sweeper removes expired keys through the log, on every replica: "
        + before + " keys before, " + after + " after");
    assertEquals(404, api.get(n1, "z/gc/0").status());
  }

  private long minKeyCount(long rangeId) {
    return keyCounts(rangeId).stream().mapToLong(Long::longValue).min().orElseThrow();
  }

  private long maxKeyCount(long rangeId) {
    return keyCounts(rangeId).stream().mapToLong(Long::longValue).max().orElseThrow();
  }

  private List<Long> keyCounts(long rangeId) {
    Resp r = api.raw("GET", n1 + "/v1/admin/ranges/" + rangeId, null);
    assertEquals(200, r.status(), r::toString);
    List<Long> counts = new ArrayList<>();
    r.json().get("replica_status").forEach(replica -> counts.add(replica.get("key_count").asLong()));
    assertEquals(3, counts.size(), r::toString);
    return counts;
  }

  @Test
  void keysWithSlashesSpacesPercentAndUnicodeRoundTrip() {
    for (String key : List.of("y/users/42", "y/a b", "y/100%", "y/é/ü/日本", "y/q?x=1&y=2", "y/#hash", "y/a+b")) {
      Resp put = api.put(n1, key, "v:" + key);
      assertEquals(200, put.status(), () -> key + " -> " + put);
      assertEquals(key, put.json().get("key").asText());
      Resp get = api.get(n2, key);
      assertEquals(200, get.status(), () -> key + " -> " + get);
      assertEquals(key, get.json().get("key").asText());
      assertEquals("v:" + key, unb64(get.json().get("value")));
    }
  }

  @Test
  void scansCrossRangesWithCursorsLimitsReverseAndPrefix() {
    List<String> keys = new ArrayList<>();
    for (String part : List.of("b", "h", "p", "u")) { // one group of keys in each of the 4 ranges
      for (int i = 0; i < 10; i++) {
        String key = part + ".scan." + i;
        keys.add(key);
        assertEquals(200, api.put(n1 , key, "value-" + key).status());
      }
    }
    List<String> sorted = new ArrayList<>(new TreeSet<>(keys));
    String span = "start=b.scan.&end=u.scan.~";

    assertEquals(sorted, pageThrough(n2, span + "&limit=7", false));
    List<String> reversed = new ArrayList<>(sorted);
    java.util.Collections.reverse(reversed);
    assertEquals(reversed, pageThrough(n3, span + "&limit=6&reverse=true", true));

    Resp prefix = api.scan(n1, "prefix=" + ApiClient.query("h.scan.") + "&limit=100");
    assertEquals(200, prefix.status(), prefix::toString);
    List<String> got = new ArrayList<>();
    prefix.json().get("items").forEach(i -> got.add(i.get("key").asText()));
    assertEquals(sorted.subList(10, 20), got);
    assertTrue(prefix.json().get("cursor").isNull());
    assertEquals("value-h.scan.0", unb64(prefix.json().get("items").get(0).get("value")));

    Resp keysOnly = api.scan(n1, span + "&limit=40&keys_only=true");
    assertEquals(40, keysOnly.json().get("items").size());
    assertFalse(keysOnly.json().get("items").get(0).has("value"));
    assertTrue(keysOnly.json().get("cursor").isNull(), "a page that ends the span has no cursor");
  }

  private List<String> pageThrough(String node, String params, boolean reverse) {
    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Resp page = api.scan(node, params + (cursor == null ? "" : "&cursor=" + ApiClient.query(cursor)));
      assertEquals(200, page.status(), page::toString);
      JsonNode items = page.json().get("items");
      assertTrue(items.size() <= 7);
      items.forEach(i -> seen.add(i.get("key").asText()));
      cursor = page.json().get("cursor").isNull() ? null : page.json().get("cursor").asText();
      assertTrue(++pages < 20, "scan did not terminate");
    } while (cursor != null);
    return seen;
  }

  @Test
  void deletingASpanRemovesKeysInEveryRangeItCovers() {
    for (String key : List.of("f.del.1", "f.del.2", "g.del.1", "g.del.2", "g.del.3")) {
      api.put(n1, key, "x");
    }
    api.put(n1, "g.keep", "x");
    Resp del = api.deleteSpan(n2, "start=f.del.&end=g.del.~");
    assertEquals(200, del.status(), del::toString);
    assertEquals(5, del.json().get("deleted").asLong());
    assertEquals(404, api.get(n3, "g.del.2").status());
    assertEquals(200, api.get(n3, "g.keep").status());
    assertError(api.deleteSpan(n2, ""), 400, "invalid_argument");
    assertError(api.deleteSpan(n2, "start="), 400, "invalid_argument");
    assertError(api.deleteSpan(n2, "start=&end="), 400, "invalid_argument");
    assertError(api.deleteSpan(n2, "prefix="), 400, "invalid_argument");
    assertEquals(200, api.get(n3, "g.keep").status(), "a refused delete deleted nothing");
  }

  /**
   * A stale read asking for a revision its range has not reached waits for it at most the
   * request timeout, answers 504, and stops looking: the node's count of stale reads waiting
   * for a revision falls back to zero.
   */
  @Test
  void aStaleReadOfARevisionNotYetWrittenAnswers504AndStopsWaiting() throws InterruptedException {
    Resp write = api.put(n1, "z/stale-ahead", "v");
    assertEquals(200, write.status(), write::toString);
    long ahead = write.json().get("revision").asLong() + 1_000_000;
    java.util.concurrent.CompletableFuture<Resp> read = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> api.get(n2, "z/stale-ahead", "raw&consistency=stale&min_revision=" + ahead));
    long counted = System.nanoTime() + 5_000_000_000L;
    while (staleReadsWaiting(n2) < 1 && System.nanoTime() < counted) {
      Thread.sleep(50);
    }
    assertEquals(1, staleReadsWaiting(n2), "the waiting read is counted");
    assertError(read.join(), 504, "timeout");
    long deadline = System.nanoTime() + 3_000_000_000L;
    long waiting = staleReadsWaiting(n2);
    while (waiting != 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
      waiting = staleReadsWaiting(n2);
    }
    assertEquals(0, waiting, "a stale read still waits for its revision after its request timed out");
  }

  private long staleReadsWaiting(String node) {
    return api.raw("GET", node + "/admin/metrics", null).json().path("gauges")
        .path("flotilla.reads.stale-waiting-for-revision").path("value").asLong(-1);
  }

  /**
   * A batch's writes share their range's revision, and a version names one value of its key: a
   * batch writing one key twice is refused, atomic or not, and applies nothing.
   */
  @Test
  void aBatchWritingOneKeyTwiceIsRefusedAndAppliesNothing() {
    for (boolean atomic : List.of(true, false)) {
      String other = "y/dup/" + atomic + "/other";
      String twice = "y/dup/" + atomic + "/twice";
      Resp r = api.batch(n2, "{\"atomic\": " + atomic + ", \"ops\": ["
          + "{\"op\":\"put\",\"key\":\"" + other + "\",\"value\":\"MQ==\"},"
          + "{\"op\":\"put\",\"key\":\"" + twice + "\",\"value\":\"MQ==\"},"
          + "{\"op\":\"delete\",\"key\":\"" + twice + "\"}]}");
      assertError(r, 400, "invalid_argument");
      assertTrue(r.json().path("message").asText().contains("ops[2]"), r::toString);
      assertEquals(404, api.get(n3, other).status(), "a refused batch applied an op");
    }
    Resp reads = api.batch(n2, "{\"atomic\": false, \"ops\": [{\"op\":\"get\",\"key\":\"y/dup/r\"},"
        + "{\"op\":\"get\",\"key\":\"y/dup/r\"}]}");
    assertEquals(200, reads.status(), () -> "reading a key twice is no conflict: " + reads);
  }

  @Test
  void anAtomicBatchInOneRangeAppliesAllOrNothing() {
    api.put(n1, "y/batch/a", "1");
    Resp ok = api.batch(n2, "{\"atomic\": true, \"ops\": ["
        + "{\"op\":\"put\",\"key\":\"y/batch/b\",\"value\":\"" + b64("2") + "\"},"
        + "{\"op\":\"delete\",\"key\":\"y/batch/a\"},"
        + "{\"op\":\"get\",\"key\":\"y/batch/b\"}]}");
    assertEquals(200, ok.status(), ok::toString);
    assertEquals(3, ok.json().get("succeeded").asInt());
    assertEquals(0, ok.json().get("failed").asInt());
    assertEquals("2", unb64(ok.json().get("results").get(2).get("value")), "reads see the batch's own writes");
    assertEquals(404, api.get(n3, "y/batch/a").status());

    Resp conflict = api.batch(n2, "{\"atomic\": true, \"ops\": ["
        + "{\"op\":\"put\",\"key\":\"y/batch/c\",\"value\":\"" + b64("3") + "\"},"
        + "{\"op\":\"put\",\"key\":\"y/batch/b\",\"value\":\"" + b64("x") + "\",\"if_version\":0}]}");
    assertError(conflict, 409, "version_conflict");
    assertEquals(1, conflict.json().get("failed_index").asInt());
    assertTrue(conflict.json().get("current_version").asLong() > 0);
    assertEquals(404, api.get(n1, "y/batch/c").status(), "a failed atomic batch applies nothing");
    assertEquals("2", api.get(n1, "y/batch/b", "raw").text());
  }

  @Test
  void anAtomicBatchAcrossRangesAppliesAllOrNothing() {
    api.put(n2, "h.multi", "before");
    Resp ok = api.batch(n1, "{\"atomic\": true, \"ops\": ["
        + "{\"op\":\"put\",\"key\":\"a.multi\",\"value\":\"" + b64("1") + "\"},"
        + "{\"op\":\"get\",\"key\":\"h.multi\"},"
        + "{\"op\":\"delete\",\"key\":\"h.multi\"},"
        + "{\"op\":\"put\",\"key\":\"y.multi\",\"value\":\"" + b64("2") + "\",\"if_version\":0}]}");
    assertEquals(200, ok.status(), ok::toString);
    assertEquals(4, ok.json().get("succeeded").asInt());
    assertEquals("before", unb64(ok.json().get("results").get(1).get("value")), "the get saw the state before");
    long versionA = ok.json().get("results").get(0).get("version").asLong();
    assertTrue(versionA > 0);
    for (String node : List.of(n1, n2, n3)) {
      assertEquals("1", api.get(node, "a.multi", "raw").text());
      assertEquals("2", api.get(node, "y.multi", "raw").text());
      assertEquals(404, api.get(node, "h.multi").status());
    }
    assertEquals(String.valueOf(versionA), api.get(n3, "a.multi", "raw").header("X-Flotilla-Version"));

    Resp conflict = api.batch(n3, "{\"atomic\": true, \"ops\": ["
        + "{\"op\":\"put\",\"key\":\"a.multi\",\"value\":\"" + b64("3") + "\"},"
        + "{\"op\":\"put\",\"key\":\"o.multi\",\"value\":\"" + b64("3") + "\"},"
        + "{\"op\":\"put\",\"key\":\"y.multi\",\"value\":\"" + b64("3") + "\",\"if_version\":0}]}");
    assertError(conflict, 409, "version_conflict");
    assertEquals(2, conflict.json().get("failed_index").asInt());
    assertTrue(conflict.json().get("current_version").asLong() > 0);
    assertEquals("1", api.get(n1, "a.multi", "raw").text(), "a failed atomic batch applies nothing");
    assertEquals(404, api.get(n1, "o.multi").status());
    assertEquals(200, api.put(n2, "a.multi", "after").status(), "and leaves no lock behind");
  }

  @Test
  void aNonAtomicBatchReportsEachOpOnItsOwn() {
    api.put(n1, "y/nb/exists", "e");
    Resp r = api.batch(n3, "{\"atomic\": false, \"ops\": ["
        + "{\"op\":\"put\",\"key\":\"a.nb\",\"value\":\"" + b64("A") + "\"},"
        + "{\"op\":\"put\",\"key\":\"y/nb/exists\",\"value\":\"" + b64("no") + "\",\"if_version\":0},"
        + "{\"op\":\"get\",\"key\":\"y/nb/exists\"},"
        + "{\"op\":\"get\",\"key\":\"y/nb/missing\"},"
        + "{\"op\":\"delete\",\"key\":\"o.nb\"}]}");
    assertEquals(200, r.status(), r::toString);
    JsonNode results = r.json().get("results");
    assertEquals(5, results.size());
    assertEquals(4, r.json().get("succeeded").asInt());
    assertEquals(1, r.json().get("failed").asInt());
    assertTrue(results.get(0).get("version").asLong() > 0);
    assertEquals("version_conflict", results.get(1).get("error").asText());
    assertEquals("e", unb64(results.get(2).get("value")));
    assertFalse(results.get(3).get("found").asBoolean());
    assertFalse(results.get(4).get("deleted").asBoolean());
    assertEquals("A", api.get(n2, "a.nb", "raw").text());
    assertEquals("e", api.get(n2, "y/nb/exists", "raw").text());
  }

  /**
   * Batch gets and scans take {@code consistency} like single reads; follower and stale scans
   * name the applied revision that served them, and a scan or batch with {@code min_revision}
   * sees the write (or waits, bounded, for one not yet written). A bad consistency refuses the
   * whole batch, writes included.
   */
  @Test
  void batchGetsAndScansReadInTheRequestedConsistency() throws InterruptedException {
    long revision = api.put(n1, "c/rm/a", "1").json().get("revision").asLong();
    String getIt = "{\"atomic\": false, \"ops\": [{\"op\":\"get\",\"key\":\"c/rm/a\"}]}";
    for (String mode : List.of("strong", "follower", "stale")) {
      JsonNode result = null;
      for (int attempt = 0; attempt < 50 && (result == null || !result.path("found").asBoolean()); attempt++) {
        Resp b = api.raw("POST", n2 + "/v1/batch?consistency=" + mode, getIt.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, b.status(), b::toString);
        result = b.json().get("results").get(0);
        Thread.sleep(mode.equals("stale") ? 100 : 0); // a stale replica catches up soon
      }
      assertEquals("1", unb64(result.get("value")), mode);

      Resp scan = api.scan(n3, "prefix=c/rm/&consistency=" + mode + "&min_revision=" + revision);
      assertEquals(200, scan.status(), scan::toString);
      assertEquals("1", unb64(scan.json().get("items").get(0).get("value")), mode);
      assertNotNull(scan.header("X-Flotilla-Served-By"), mode);
      if (!mode.equals("strong")) {
        assertTrue(Long.parseLong(scan.header("X-Flotilla-Applied-Revision")) >= revision, scan::toString);
      }
    }
    // min_revision makes a stale batch read its write at once, and bounds the wait for one not yet written.
    for (String atomic : List.of("false", "true")) {
      String getAgain = "{\"atomic\": " + atomic + ", \"ops\": [{\"op\":\"get\",\"key\":\"c/rm/a\"}]}";
      Resp seen = api.raw("POST", n3 + "/v1/batch?consistency=stale&min_revision=" + revision,
          getAgain.getBytes(StandardCharsets.UTF_8));
      assertEquals(200, seen.status(), seen::toString);
      assertEquals("1", unb64(seen.json().get("results").get(0).get("value")), seen::toString);
    }
    Resp ahead = api.raw("POST", n3 + "/v1/batch?consistency=stale&min_revision=" + (revision + 1_000_000),
        "{\"atomic\": true, \"ops\": [{\"op\":\"get\",\"key\":\"c/rm/a\"}]}".getBytes(StandardCharsets.UTF_8));
    assertError(ahead, 504, "timeout");
    assertError(api.raw("POST", n3 + "/v1/batch?min_revision=-1", getIt.getBytes(StandardCharsets.UTF_8)),
        400, "invalid_argument");
    String getAndPut = "{\"atomic\": false, \"ops\": [{\"op\":\"get\",\"key\":\"c/rm/a\"},"
        + " {\"op\":\"put\",\"key\":\"c/rm/c\",\"value\":\"" + b64("y") + "\"}]}";
    assertError(api.raw("POST", n3 + "/v1/batch?consistency=stale&min_revision=" + revision,
        getAndPut.getBytes(StandardCharsets.UTF_8)), 400, "invalid_argument");
    assertEquals(404, api.get(n1, "c/rm/c").status(), "the refused batch wrote nothing");
    String putIt = "{\"atomic\": false, \"ops\": [{\"op\":\"put\",\"key\":\"c/rm/b\",\"value\":\"" + b64("x")
        + "\"}]}";
    assertError(api.raw("POST", n2 + "/v1/batch?consistency=sometimes", putIt.getBytes(StandardCharsets.UTF_8)),
        400, "invalid_argument");
    assertEquals(404, api.get(n1, "c/rm/b").status());
  }

  /**
   * A request refused before its body is read (here: a bad ttl), whose body arrives after the
   * headers, leaves its connection usable: the next request on it is answered.
   */
  @Test
  void aRefusedRequestsLateBodyDoesNotBreakTheConnection() throws Exception {
    URI uri = URI.create(n1);
    try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write(("PUT /v1/kv/y/late?ttl=abc HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(100);
      out.write('v');
      out.flush();
      assertTrue(readHead(in).startsWith("HTTP/1.1 400"), "the bad ttl is refused");
      out.write("GET /v1/kv/y/late HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertTrue(readHead(in).startsWith("HTTP/1.1 404"), "the same connection answers the next request");
    }
  }

  /** Reads one response's status line and headers, then skips its body (Content-Length). */
  private static String readHead(InputStream in) throws Exception {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new AssertionError("the connection closed after: " + head);
      }
      head.append((char) c);
    }
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        in.readNBytes(Integer.parseInt(line.substring(15).trim()));
      }
    }
    return head.toString();
  }

  /**
   * GET, PUT and DELETE of one key are served by a fast path in front of Jersey (KvFastPath);
   * a request whose Accept header is not plain "any" still goes through Jersey. Both answer
   * every case alike: status, body, content type and API.md's X-Flotilla headers.
   */
  @Test
  void theFastPathAndJerseyAnswerAlike() {
    assertEquals(200, api.put(n1, "fp/k", "v1").status());
    List<String> odd = List.of("fp/a b", "fp/100%", "fp/\u00fc/x", "fp/a+b", "fp/sl%2Fash");
    for (String key : odd) {
      assertEquals(200, api.put(n1, key, key).status());
    }
    long servedBefore = fastPathServed(n2);
    List<String[]> all = new ArrayList<>();
    for (String key : odd) {
      all.add(new String[] {"GET", ApiClient.pathOf(key), ""});
      all.add(new String[] {"GET", ApiClient.pathOf(key), "?raw"});
    }
    String[][] cases = {
        {"GET", "fp/k", ""}, {"GET", "fp/k", "?raw"}, {"GET", "fp/k", "?consistency=stale&raw=true"},
        {"GET", "fp/k", "?consistency=follower"}, {"GET", "fp/none", ""}, {"GET", "fp/none", "?raw"},
        {"GET", "fp/k", "?consistency=bogus"}, {"GET", "fp/k", "?raw=maybe"}, {"GET", "fp/k", "?min_revision=x"},
        {"DELETE", "fp/k", "?if_version=999"}, {"DELETE", "fp/k", "?if_version=x"},
        {"PUT", "fp/k", "?ttl=-1"}, {"PUT", "fp/k", "?if_version=999"}, {"PUT", "fp/k", "?ttl=abc&if_version=1"}};
    all.addAll(List.of(cases));
    for (String[] c : all) {
      String url = n2 + "/v1/kv/" + c[1] + c[2];
      byte[] body = c[0].equals("PUT") ? "v2".getBytes(StandardCharsets.UTF_8) : null;
      Resp fast = api.send(c[0], url, body, Map.of());
      Resp jersey = api.send(c[0], url, body, Map.of("Accept", "*/*; q=1"));
      String what = c[0] + " " + c[1] + c[2];
      assertEquals(jersey.status(), fast.status(), what);
      assertEquals(jersey.text(), fast.text(), what);
      for (String h : List.of("Content-Type", "X-Flotilla-Version", "X-Flotilla-Revision", "X-Flotilla-Served-By",
          "X-Flotilla-Applied-Revision")) {
        assertEquals(jersey.header(h), fast.header(h), what + ": " + h);
      }
    }
    assertTrue(fastPathServed(n2) - servedBefore >= all.size(), "the requests without Accept took the fast path");
    for (String key : odd) {
      assertEquals(key, api.get(n2, key, "?raw").text(), "the fast path reads the key its path names");
    }
    Resp json = api.send("GET", n2 + "/v1/kv/fp/k", null, Map.of("Accept", "application/json"));
    Resp viaJersey = api.send("GET", n2 + "/v1/kv/fp/k", null, Map.of("Accept", "application/json; q=1"));
    assertEquals(viaJersey.status(), json.status());
    assertEquals(viaJersey.text(), json.text(), "Flotilla's client's Accept gets Jersey's answer");
    assertEquals("v1", api.get(n3, "fp/k", "?raw").text(), "none of the refused writes changed the key");
  }

  @Test
  void writesReceivedByANodeThatDoesNotLeadTheRangeAreProposedByItsLeader() {
    long forwardedBefore = writeCount("forwarded");
    long servedBefore = writeCount("served-for-peers");
    Map<String, String> written = new java.util.LinkedHashMap<>();
    Map<String, Long> versions = new java.util.HashMap<>();
    for (String node : List.of(n1, n2, n3)) {
      for (int i = 0; i < 10; i++) {
        String key = "fw/" + node.hashCode() + "/" + i;
        Resp put = api.put(node, key, "v" + i);
        assertEquals(200, put.status(), put::toString);
        written.put(key, "v" + i);
        versions.put(key, put.json().get("version").asLong());
      }
      Resp delete = api.raw("DELETE", node + "/v1/kv/fw/" + node.hashCode() + "/0", null);
      assertEquals(200, delete.status(), delete::toString);
      written.remove("fw/" + node.hashCode() + "/0");
    }
    long forwarded = writeCount("forwarded") - forwardedBefore;
    assertTrue(forwarded > 0, "no write went to a leader on another node");
    assertEquals(forwarded, writeCount("served-for-peers") - servedBefore,
        "every forwarded write was proposed by the node it went to");
    for (Map.Entry<String, String> e : written.entrySet()) {
      Resp get = api.get(n3, e.getKey(), "");
      assertEquals(200, get.status(), get::toString);
      assertEquals(e.getValue(), new String(Base64.getDecoder().decode(get.json().get("value").asText()),
          StandardCharsets.UTF_8), e.getKey());
      assertEquals(versions.get(e.getKey()), get.json().get("version").asLong(),
          () -> "applied once, as acknowledged (a second apply would raise the version): " + get);
    }
    assertEquals(404, api.get(n1, "fw/" + n2.hashCode() + "/0", "").status(), "the forwarded delete applied");
  }

  /** A forwarding count summed over the three nodes. */
  private long writeCount(String count) {
    long sum = 0;
    for (String node : List.of(n1, n2, n3)) {
      sum += api.raw("GET", node + "/admin/metrics", null).json().path("gauges").path("flotilla.writes." + count)
          .path("value").asLong();
    }
    return sum;
  }

  private long fastPathServed(String node) {
    return api.raw("GET", node + "/admin/metrics", null).json().path("meters")
        .path(io.flotilla.api.resources.KvFastPath.SERVED_METER).path("count").asLong();
  }

  @Test
  void badInputGetsItsStatusAndJsonErrorAndChangesNothing() {
    assertError(api.verbatim(n1, "PUT", "/v1/kv/y/bad%zz", "v".getBytes()), 400, "invalid_argument");
    assertError(api.verbatim(n1, "PUT", "/v1/kv/y/bad%f", "v".getBytes()), 400, "invalid_argument");
    assertError(api.raw("PUT", n1 + "/v1/kv/y/bad%ff%fe", "v".getBytes()), 400, "invalid_argument");
    assertError(api.raw("GET", n1 + "/v1/kv/y/bad%c3", null), 400, "invalid_argument");
    assertError(api.raw("PUT", n1 + "/v1/kv/", "v".getBytes()), 400, "invalid_argument");
    assertEquals(404, api.get(n2, "y/bad").status(), "none of those wrote anything");
    assertError(api.put(n1, "y/" + "k".repeat(4095), "v"), 413, "too_large");
    assertError(api.put(n1, "y/big", new byte[1024 * 1024 + 1], ""), 413, "too_large");
    assertEquals(404, api.get(n2, "y/big").status());
    assertEquals(200, api.put(n1, "y/max", new byte[1024 * 1024], "").status(), "exactly the limit is fine");

    for (String params : List.of("ttl=-1", "ttl=0", "ttl=abc", "if_version=x", "if_version=-2")) {
      assertError(api.put(n1, "y/params", "v".getBytes(), params), 400, "invalid_argument");
    }
    assertEquals(404, api.get(n2, "y/params").status(), "rejected writes change nothing");
    assertError(api.delete(n1, "y/params", "if_version=x"), 400, "invalid_argument");
    assertError(api.get(n1, "y/params", "consistency=bogus"), 400, "invalid_argument");
    assertError(api.get(n1, "y/params", "min_revision=-1"), 400, "invalid_argument");
    for (String params : List.of("limit=0", "limit=10001", "limit=x", "reverse=maybe", "cursor=!!!",
        "start=b&end=a", "prefix=a&start=b")) {
      assertError(api.scan(n1, params), 400, "invalid_argument");
    }

    for (String body : List.of("{not json", "[]", "{\"ops\": 5}", "{\"atomic\": \"yes\", \"ops\": []}",
        "{\"ops\": [{\"op\":\"put\",\"key\":\"y/b1\",\"value\":\"***\"}]}",
        "{\"ops\": [{\"op\":\"frobnicate\",\"key\":\"y/b1\"}]}",
        "{\"ops\": [{\"op\":\"put\",\"key\":\"\",\"value\":\"\"}]}",
        "{\"ops\": [{\"op\":\"put\",\"value\":\"\"}]}",
        "{\"ops\": [{\"op\":\"put\",\"key\":\"y/b1\",\"value\":\"\",\"ttl\":-5}]}",
        "{\"ops\": [{\"op\":\"put\",\"key\":\"y/b2\",\"value\":\"\"}, {\"op\":\"get\",\"key\":\"y/b3\",\"value\":\"\"}]}")) {
      assertError(api.batch(n2, body), 400, "invalid_argument");
    }
    assertEquals(404, api.get(n1, "y/b2").status(), "a batch with one bad op applies none");
    StringBuilder many = new StringBuilder("{\"ops\": [");
    for (int i = 0; i < 1001; i++) {
      many.append(i == 0 ? "" : ",").append("{\"op\":\"get\",\"key\":\"y/k").append(i).append("\"}");
    }
    assertError(api.batch(n2, many.append("]}").toString()), 413, "too_large");

    assertError(api.raw("GET", n1 + "/v1/admin/ranges/999", null), 404, "not_found");
    assertError(api.raw("GET", n1 + "/v1/admin/ranges/abc", null), 400, "invalid_argument");
    assertError(api.raw("GET", n1 + "/v1/nothing-here", null), 404, "not_found");
  }

  @Test
  void adminAndOperationalEndpointsDescribeTheCluster() throws InterruptedException {
    Resp cluster = api.raw("GET", n2 + "/v1/admin/cluster", null);
    assertEquals(200, cluster.status(), cluster::toString);
    assertEquals(3, cluster.json().get("nodes").size());
    cluster.json().get("nodes").forEach(n -> assertEquals("up", n.get("state").asText()));
    assertEquals(4, cluster.json().get("summary").get("ranges").asInt());

    Resp ranges = api.raw("GET", n3 + "/v1/admin/ranges", null);
    JsonNode list = ranges.json().get("ranges");
    assertEquals(4, list.size());
    assertEquals("", list.get(0).get("start").asText());
    for (int i = 1; i < list.size(); i++) {
      assertEquals(list.get(i - 1).get("end").asText(), list.get(i).get("start").asText(), "ranges tile the key space");
    }
    assertTrue(list.get(3).get("end").isNull());
    for (JsonNode r : list) {
      assertEquals(3, r.get("replicas").size());
      // A range unused for a while sleeps (a new cluster's ranges start asleep) and names no leader.
      assertTrue(!r.get("leader").isNull() || r.path("asleep").asBoolean(),
          () -> "range neither led nor asleep: " + r);
    }

    for (String other : List.of(n1, n2)) { // every node derived the same layout, replica order included
      JsonNode theirs = api.raw("GET", other + "/v1/admin/ranges", null).json().get("ranges");
      for (int i = 0; i < list.size(); i++) {
        assertEquals(list.get(i).get("replicas"), theirs.get(i).get("replicas"));
      }
    }

    Resp owner = api.raw("GET", n1 + "/v1/admin/ranges?key=" + ApiClient.query("m"), null);
    assertEquals("g", owner.json().get("start").asText());
    Resp one = api.raw("GET", n1 + "/v1/admin/ranges/" + owner.json().get("id").asLong() + "?checksum=true", null);
    assertEquals(3, one.json().get("replica_status").size());

    assertEquals(200, api.raw("GET", n1 + "/healthz", null).status());
    assertEquals(200, api.raw("GET", n1 + "/readyz", null).status());
    long metricsRange = api.raw("GET", n1 + "/v1/admin/ranges?key=y/metrics", null).json().get("id").asLong();
    long writesBefore = rangeSample(n1, "flotilla_range_requests_total{range=\"" + metricsRange
        + "\",kind=\"write\",outcome=\"ok\"}");
    api.put(n1, "y/metrics", "m");
    assertEquals(200, api.get(n1, "y/metrics").status());
    Resp metrics = api.raw("GET", n1 + "/metrics", null);
    assertEquals(200, metrics.status());
    assertTrue(metrics.text().contains("flotilla_requests_put_seconds_count"), metrics::text);
    assertNull(metrics.header("X-Flotilla-Served-By"));
    // Per range: the node's calls on the range (counts and latency), and its replica's state.
    String range = "range=\"" + metricsRange + "\"";
    // At least: the sweeper's deletes of expired keys in the same range count too.
    assertTrue(rangeSample(n1, "flotilla_range_requests_total{" + range + ",kind=\"write\",outcome=\"ok\"}")
        >= writesBefore + 1, metrics::text);
    assertTrue(rangeSample(n1, "flotilla_range_request_seconds_count{" + range + ",kind=\"read\"}") >= 1, metrics::text);
    assertTrue(rangeSample(n1, "flotilla_range_revision{" + range + "}") >= 1, metrics::text);
    assertTrue(rangeSample(n1, "flotilla_range_applied_index{" + range + "}") >= 1, metrics::text);
    long leaders = -1;
    for (int attempt = 0; attempt < 50 && leaders != 1; attempt++) { // a leader may move between two scrapes
      leaders = 0;
      for (String node : List.of(n1, n2, n3)) {
        leaders += rangeSample(node, "flotilla_range_leader{" + range + "}");
      }
      Thread.sleep(leaders == 1 ? 0 : 200);
    }
    assertEquals(1, leaders, "one node leads the range");
  }
}
