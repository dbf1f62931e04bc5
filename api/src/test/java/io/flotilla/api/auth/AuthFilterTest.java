package io.flotilla.api.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.api.config.AuthConfig;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AuthFilterTest {

  @Test
  void eachPathNeedsItsRoleAndAnythingUnnamedNeedsAdmin() {
    assertNull(AuthFilter.required("GET", "/healthz"));
    assertNull(AuthFilter.required("GET", "/readyz"));
    assertNull(AuthFilter.required("GET", "/metrics"));
    assertEquals(Role.READ, AuthFilter.required("GET", "/v1/kv/users/42"));
    assertEquals(Role.READ, AuthFilter.required("HEAD", "/v1/kv/users/42"));
    assertEquals(Role.READ, AuthFilter.required("GET", "/v1/kv"));
    assertEquals(Role.WRITE, AuthFilter.required("PUT", "/v1/kv/users/42"));
    assertEquals(Role.WRITE, AuthFilter.required("DELETE", "/v1/kv"));
    assertEquals(Role.WRITE, AuthFilter.required("POST", "/v1/kv/n/incr"));
    assertEquals(Role.READ, AuthFilter.required("POST", "/v1/batch"), "the batch checks its writes itself");
    assertEquals(Role.ADMIN, AuthFilter.required("GET", "/v1/admin/cluster"));
    assertEquals(Role.ADMIN, AuthFilter.required("GET", "/admin/metrics"));
    assertEquals(Role.ADMIN, AuthFilter.required("GET", "/v1/kvx"), "a path merely starting like /v1/kv is not one");
    assertEquals(Role.ADMIN, AuthFilter.required("GET", "/v2/anything"));
    assertEquals(Role.NODE, AuthFilter.required("POST", "/internal/v1/pd/heartbeat"));
    assertEquals(Role.READ, AuthFilter.required("GET", "/v1/admin/ranges"), "the range listing clients route by");
    assertEquals(Role.ADMIN, AuthFilter.required("POST", "/v1/admin/ranges"));
    assertEquals(Role.ADMIN, AuthFilter.required("GET", "/v1/admin/ranges/7"));
  }

  /** A path with dot segments is judged as sent (Jersey's view) and as resolved (the servlets'): the higher need wins. */
  @Test
  void dotSegmentsCannotLowerWhatARequestNeeds() {
    assertEquals(Role.WRITE, AuthFilter.required("PUT", "/v1/kv/x/%2e%2e/%2e%2e/%2e%2e/healthz", "/healthz"),
        "a write of key x/../../../healthz is a write, not a probe");
    assertEquals(Role.WRITE, AuthFilter.required("PUT", "/v1/kv/x/../../batch", "/v1/batch"));
    assertEquals(Role.ADMIN, AuthFilter.required("GET", "/v1/%61dmin/cluster", "/v1/admin/cluster"));
    assertEquals(Role.ADMIN, AuthFilter.required("GET", "/v1/kv/a/../../admin/x", "/v1/admin/x"),
        "a key that resolves under /v1/admin needs what that path needs");
    assertEquals(Role.NODE, AuthFilter.required("GET", "/v1/kv/../../internal/v1/ranges", "/internal/v1/ranges"));
    assertNull(AuthFilter.required("GET", "/healthz", "/healthz"));
  }

  @Test
  void rolesCoverTheOnesBelowThem() {
    assertTrue(Role.ADMIN.covers(Role.WRITE));
    assertTrue(Role.WRITE.covers(Role.READ));
    assertTrue(Role.NODE.covers(Role.ADMIN));
    assertFalse(Role.ADMIN.covers(Role.NODE));
    assertFalse(Role.READ.covers(Role.WRITE));
    assertEquals(Role.WRITE, Role.of("write"));
    assertThrows(IllegalArgumentException.class, () -> Role.of("root"));
  }

  @Test
  void onlyABearerHeaderCarriesAToken() {
    assertEquals(Optional.of("abc"), AuthFilter.bearer("Bearer abc"));
    assertEquals(Optional.of("abc"), AuthFilter.bearer("bearer  abc "));
    assertEquals(Optional.empty(), AuthFilter.bearer("Basic abc"));
    assertEquals(Optional.empty(), AuthFilter.bearer("Bearer "));
    assertEquals(Optional.empty(), AuthFilter.bearer(null));
  }

  private static AuthConfig.TokenConfig token(String name, String token, String sha256, Role role) {
    AuthConfig.TokenConfig t = new AuthConfig.TokenConfig();
    t.name = name;
    t.token = token;
    t.sha256 = sha256;
    t.role = role;
    return t;
  }

  private static AuthConfig config(AuthConfig.TokenConfig... tokens) {
    AuthConfig c = new AuthConfig();
    c.enabled = true;
    c.clusterToken = "the-cluster-token-0000";
    c.tokens = List.of(tokens);
    return c;
  }

  @Test
  void tokensAreFoundByTheirDigestWhicheverWayTheyWereConfigured() {
    String secret = "a-writer-token-0000";
    Tokens tokens = Tokens.of(config(token("reader", "a-reader-token-0000", null, Role.READ),
        token("writer", null, Tokens.sha256Hex(secret).toUpperCase(), Role.WRITE)));
    assertEquals(Optional.of(new Principal("reader", Role.READ)), tokens.principal("a-reader-token-0000"));
    assertEquals(Optional.of(new Principal("writer", Role.WRITE)), tokens.principal(secret));
    assertEquals(Role.NODE, tokens.principal("the-cluster-token-0000").orElseThrow().role());
    assertEquals(Optional.empty(), tokens.principal("a-reader-token-000"));
  }

  @Test
  void malformedTokenConfigsAreRefusedByName() {
    assertNull(config(token("ok", "sixteen-chars-ok", null, Role.READ)).tokenProblem());
    assertTrue(config(token("short", "too-short", null, Role.READ)).tokenProblem().contains("16 characters"));
    assertTrue(config(token("both", "sixteen-chars-ok", Tokens.sha256Hex("x"), Role.READ)).tokenProblem()
        .contains("exactly one"));
    assertTrue(config(token("hex", null, "not-hex", Role.READ)).tokenProblem().contains("64 hex"));
    assertTrue(config(token("a", "sixteen-chars-ok", null, Role.READ), token("a", "sixteen-chars-ok2", null, Role.READ))
        .tokenProblem().contains("used twice"));
    assertTrue(config(token("n", "sixteen-chars-ok", null, Role.NODE)).tokenProblem().contains("clusterToken"));
    AuthConfig noCluster = config();
    noCluster.clusterToken = "short";
    assertFalse(noCluster.isClusterTokenSet());
    noCluster.enabled = false;
    assertTrue(noCluster.isClusterTokenSet(), "off, it needs no cluster token");
    assertThrows(IllegalArgumentException.class, () -> Tokens.of(config(
        token("same", "the-cluster-token-0000", null, Role.READ))), "a client token equal to the cluster token");
  }
}
