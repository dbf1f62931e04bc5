package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.testcluster.ApiClient.Resp;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A cluster with auth on (API.md's 401 {@code unauthenticated} and 403
 * {@code permission_denied}): a request without a token the nodes know is refused, a token's
 * role bounds what it may do, a refused request changes nothing, and the nodes' own calls to
 * each other (forwarding, reads on peers, the placement driver's heartbeats, a split) carry
 * the cluster token and work.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthIT {
  private static final int SUBNET = 37;
  private static final String CLUSTER_TOKEN = "cluster-token-for-auth-it-0001";
  private static final String READ_TOKEN = "reader-token-for-auth-it-0002";
  private static final String WRITE_TOKEN = "writer-token-for-auth-it-0003";
  private static final String ADMIN_TOKEN = "admin-token-for-auth-it-0004";

  private ProcessCluster cluster;
  private final ApiClient anonymous = new ApiClient();
  private final ApiClient reader = anonymous.withToken(READ_TOKEN);
  private final ApiClient writer = anonymous.withToken(WRITE_TOKEN);
  private final ApiClient admin = anonymous.withToken(ADMIN_TOKEN);
  private final ApiClient node = anonymous.withToken(CLUSTER_TOKEN);
  private String n1;
  private String n2;
  private String n3;

  @BeforeAll
  void startCluster() throws Exception {
    // The writer's token is configured by its digest only, as a config file that holds no secret would.
    cluster = ProcessCluster.start("auth", SUBNET, 3, Map.of("auth", Map.of(
        "enabled", true,
        "clusterToken", CLUSTER_TOKEN,
        "tokens", List.of(
            Map.of("name", "reader", "token", READ_TOKEN, "role", "read"),
            Map.of("name", "writer", "sha256", sha256(WRITE_TOKEN), "role", "write"),
            Map.of("name", "ops", "token", ADMIN_TOKEN, "role", "admin")))));
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

  private static String sha256(String token) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
  }

  private static void assertError(Resp r, int status, String code) {
    assertEquals(status, r.status(), () -> "unexpected response " + r);
    assertEquals(code, r.json().path("error").asText(), () -> "unexpected body " + r);
    assertFalse(r.json().path("message").asText().isBlank(), () -> "error without a message: " + r);
  }

  @Test
  void withoutAKnownTokenOnlyTheProbesAndMetricsAnswer() {
    for (Resp r : List.of(anonymous.get(n1, "a/anon"), anonymous.put(n1, "a/anon", "x"),
        anonymous.raw("GET", n1 + "/v1/admin/cluster", null), anonymous.raw("GET", n1 + "/admin/metrics", null),
        anonymous.raw("GET", n1 + "/internal/v1/ranges", null), anonymous.scan(n1, "prefix=a/"))) {
      assertError(r, 401, "unauthenticated");
      assertEquals("Bearer realm=\"flotilla\"", r.header("WWW-Authenticate"), r::toString);
    }
    assertError(anonymous.withToken("not-a-token-this-cluster-knows").get(n2, "a/anon"), 401, "unauthenticated");
    assertError(anonymous.send("GET", n2 + "/v1/kv/a/anon", null, Map.of("Authorization", "Basic " + READ_TOKEN)),
        401, "unauthenticated");
    for (String open : List.of("/healthz", "/readyz", "/metrics")) {
      assertEquals(200, anonymous.raw("GET", n3 + open, null).status(), open + " is open to probes and scrapers");
    }
    assertEquals(404, reader.get(n1, "a/anon").status(), "the refused put applied nothing");
  }

  @Test
  void aWriterWritesThroughEveryNodeAndIsRefusedAdministration() {
    for (String via : List.of(n1, n2, n3)) {
      Resp put = writer.put(via, "b/w/" + via.hashCode(), "v");
      assertEquals(200, put.status(), () -> "a put through " + via + " (forwarded to the leader's node): " + put);
      Resp strong = writer.get(n3, "b/w/" + via.hashCode(), "raw");
      assertEquals("v", strong.text(), strong::toString);
      Resp stale = writer.get(n2, "b/w/" + via.hashCode(), "raw&consistency=stale&min_revision="
          + put.json().get("revision").asLong());
      assertEquals("v", stale.text(), stale::toString);
    }
    Resp batch = writer.batch(n2, "{\"atomic\": true, \"ops\": [{\"op\":\"put\",\"key\":\"b/w/batch\",\"value\":\"MQ==\"},"
        + "{\"op\":\"put\",\"key\":\"z/w/batch\",\"value\":\"Mg==\"}]}");
    assertEquals(200, batch.status(), batch::toString);
    Resp denied = writer.raw("GET", n1 + "/v1/admin/cluster", null);
    assertError(denied, 403, "permission_denied");
    assertTrue(denied.json().get("message").asText().contains("writer"), denied::toString);
    assertError(writer.raw("GET", n1 + "/internal/v1/ranges", null), 403, "permission_denied");
  }

  @Test
  void aReaderReadsAndEveryWriteItTriesIsRefusedAndAppliesNothing() {
    assertEquals(200, writer.put(n1, "c/r/k", "before").status());
    assertEquals("before", reader.get(n2, "c/r/k", "raw").text());
    assertEquals(200, reader.scan(n3, "prefix=c/r/").status());
    assertEquals(200, reader.batch(n1, "{\"ops\": [{\"op\":\"get\",\"key\":\"c/r/k\"}]}").status(),
        "a batch of gets is a read");

    assertError(reader.put(n1, "c/r/k", "after"), 403, "permission_denied");
    assertError(reader.delete(n2, "c/r/k", null), 403, "permission_denied");
    assertError(reader.incr(n3, "c/r/n", "{\"delta\": 1}"), 403, "permission_denied");
    assertError(reader.deleteSpan(n1, "prefix=c/r/"), 403, "permission_denied");
    assertError(reader.batch(n2, "{\"atomic\": false, \"ops\": [{\"op\":\"get\",\"key\":\"c/r/k\"},"
        + "{\"op\":\"put\",\"key\":\"c/r/k\",\"value\":\"YWZ0ZXI=\"}]}"), 403, "permission_denied");
    assertEquals("before", writer.get(n3, "c/r/k", "raw").text(), "no refused write applied");
    assertEquals(404, writer.get(n3, "c/r/n").status(), "the refused increment applied nothing");
  }

  @Test
  void anAdminAdministersButOnlyTheClusterTokenOpensInternalCalls() {
    Resp members = admin.raw("GET", n1 + "/v1/admin/cluster", null);
    assertEquals(200, members.status(), members::toString);
    assertEquals(3, members.json().get("nodes").size(), members::toString);
    assertEquals(200, admin.raw("GET", n2 + "/admin/metrics", null).status());
    assertEquals(200, admin.put(n3, "d/a/k", "v").status(), "admin may do what write may");

    Resp range = admin.raw("GET", n1 + "/v1/admin/ranges?key=" + ApiClient.query("d/a/k"), null);
    assertEquals(200, range.status(), range::toString);
    long id = range.json().get("id").asLong();
    // A split proposes through the range's group and tells the peers' placement state; it works with auth on.
    Resp split = admin.admin("POST", n2 + "/v1/admin/ranges/" + id + "/split",
        "{\"at\": \"d/a/m\"}".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, split.status(), split::toString);
    assertEquals("v", reader.get(n1, "d/a/k", "raw").text(), "the split range serves its keys");

    assertError(admin.raw("GET", n1 + "/internal/v1/ranges", null), 403, "permission_denied");
    assertEquals(200, node.raw("GET", n1 + "/internal/v1/ranges", null).status(), "the nodes' own token opens it");
  }

  /**
   * Dot segments, plain or encoded, resolve away in the path the servlets match but not in the
   * one Jersey routes by (a key may hold {@code ..}): a write disguised as a probe or as a batch
   * is judged as the write it is, and applies nothing.
   */
  @Test
  void dotSegmentsDoNotDisguiseAWrite() {
    byte[] value = "x".getBytes(StandardCharsets.UTF_8);
    for (String path : List.of("/v1/kv/e/%2e%2e/%2e%2e/%2e%2e/healthz", "/v1/kv/e/../../../healthz",
        "/v1/kv/e/%2E%2E/%2E%2E/%2E%2E/metrics")) {
      Resp anon = anonymous.verbatim(n1, "PUT", path, value);
      assertError(anon, 401, "unauthenticated");
    }
    for (String path : List.of("/v1/kv/e/%2e%2e/%2e%2e/batch", "/v1/kv/e/../../batch")) {
      Resp r = anonymous.verbatim(n2, "PUT", path, value, Map.of("Authorization", "Bearer " + READ_TOKEN));
      assertError(r, 403, "permission_denied");
    }
    Resp written = writer.scan(n3, "prefix=e/");
    assertEquals(200, written.status(), written::toString);
    assertEquals(0, written.json().get("items").size(), () -> "a disguised write applied: " + written);
  }

  /** The range listing is routing information: a reader's Java client sessions route by it; changing ranges stays admin's. */
  @Test
  void aReaderMayListRangesButNotChangeThem() {
    Resp listing = reader.raw("GET", n1 + "/v1/admin/ranges", null);
    assertEquals(200, listing.status(), listing::toString);
    long id = listing.json().get("ranges").get(0).get("id").asLong();
    assertError(reader.raw("GET", n1 + "/v1/admin/ranges/" + id, null), 403, "permission_denied");
    assertError(writer.raw("POST", n1 + "/v1/admin/ranges/" + id + "/split", "{}".getBytes(StandardCharsets.UTF_8)),
        403, "permission_denied");
  }

  @Test
  void anEncodedPathDoesNotTakeAReaderPastItsRole() {
    for (String path : List.of("/v1/%61dmin/cluster", "/v1/admin/%63luster", "/v1/kv/%2E%2E/admin/cluster",
        "/v1/batch/../admin/cluster", "/%761/admin/cluster")) {
      Resp r = reader.raw("GET", n1 + path, null);
      assertNotEquals(200, r.status(), () -> "a reader's GET " + path + " was answered: " + r);
      assertFalse(r.text().contains("\"nodes\""), () -> "a reader saw the cluster through " + path);
    }
  }
}
