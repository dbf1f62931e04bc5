package io.flotilla.api.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.http.HttpServletRequest;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which requests the fast path takes, and how it reads their key and parameters (the rest goes to Jersey). */
class KvFastPathTest {
  private static final Set<String> GET = Set.of("consistency", "min_revision", "raw");

  private static HttpServletRequest request(String contextPath, String uri) {
    return (HttpServletRequest) Proxy.newProxyInstance(KvFastPathTest.class.getClassLoader(),
        new Class<?>[] {HttpServletRequest.class}, (proxy, method, args) -> switch (method.getName()) {
          case "getRequestURI" -> uri;
          case "getContextPath" -> contextPath;
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

  @Test
  void theKeyIsThePathAfterTheKvPrefixStillEncoded() {
    assertEquals("a/b%2Fc%20d", KvFastPath.keyOf(request("", "/v1/kv/a/b%2Fc%20d")));
    assertEquals("x", KvFastPath.keyOf(request("/api", "/api/v1/kv/x")));
    assertEquals("a//b", KvFastPath.keyOf(request("", "/v1/kv/a//b")));
  }

  @Test
  void pathsTheFastPathDoesNotTakeGoToJersey() {
    assertNull(KvFastPath.keyOf(request("", "/v1/kv/")), "the empty key has its own resource method");
    assertNull(KvFastPath.keyOf(request("", "/v1/kv")), "a scan");
    assertNull(KvFastPath.keyOf(request("", "/v1/batch")));
    assertNull(KvFastPath.keyOf(request("", "/v1/kv/a;v=1")), "matrix parameters");
    assertNull(KvFastPath.keyOf(request("", "/v1/kv/a/../b")), "dot segments");
    assertNull(KvFastPath.keyOf(request("", "/v1/kv/./b")));
    assertNull(KvFastPath.keyOf(request("/api", "/v1/kv/x")), "outside the application's context");
  }

  @Test
  void parametersAreDecodedAndTheFirstValueWins() {
    assertEquals(Map.of(), KvFastPath.queryParams(null, GET));
    assertEquals(Map.of(), KvFastPath.queryParams("", GET));
    assertEquals(Map.of("raw", "", "consistency", "stale"), KvFastPath.queryParams("raw&consistency=stale", GET));
    assertEquals(Map.of("consistency", "follower"),
        KvFastPath.queryParams("consistency=follower&consistency=stale", GET));
    assertEquals(Map.of("min_revision", "1 2", "raw", "true"), KvFastPath.queryParams("min_revision=1+2&&raw=%74rue", GET));
  }

  @Test
  void onlyAnAcceptThatTakesTheAnswerAsItIsStaysOnTheFastPath() {
    assertTrue(KvFastPath.acceptable(null, false));
    assertTrue(KvFastPath.acceptable("*/*", true));
    assertTrue(KvFastPath.acceptable("application/json", false), "Flotilla's client");
    assertFalse(KvFastPath.acceptable("application/json", true), "a raw value is not JSON: Jersey answers");
    assertFalse(KvFastPath.acceptable("text/plain", false));
    assertFalse(KvFastPath.acceptable("*/*; q=1", false));
  }

  @Test
  void anUnknownOrUndecodableParameterGoesToJersey() {
    assertNull(KvFastPath.queryParams("raw&ttl=5", GET), "ttl is not a GET parameter");
    assertNull(KvFastPath.queryParams("consistency=%zz", GET));
  }

  @Test
  void headerValuesAreWrittenAsJerseyWritesThem() {
    assertEquals("abc", KvFastPath.headerValue("abc"));
    assertEquals("42", KvFastPath.headerValue(42L));
    assertEquals("application/octet-stream", KvFastPath.headerValue(jakarta.ws.rs.core.MediaType.APPLICATION_OCTET_STREAM_TYPE));
    assertEquals("Thu, 01 Jan 1970 00:00:00 GMT", KvFastPath.headerValue(new java.util.Date(0)));
  }
}
