package io.flotilla.client.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** shared/API.md's wire format: URL encoding of keys and parameters, and its JSON bodies. */
final class Wire {
  static final String JSON = "application/json";
  static final String OCTETS = "application/octet-stream";
  static final String APPLIED_REVISION = "X-Flotilla-Applied-Revision";
  static final String REVISION = "X-Flotilla-Revision";
  static final String VERSION = "X-Flotilla-Version";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Wire() {}

  // ---- URLs -------------------------------------------------------------------------------

  /** {@code /v1/kv/<key>}: the key's UTF-8 bytes percent-encoded, '/' kept (API.md allows it in keys). */
  static String keyPath(String key) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("the key is empty; keys are 1 or more bytes of UTF-8");
    }
    return "/v1/kv/" + encode(key, true);
  }

  /** Percent-encodes UTF-8 bytes: everything but RFC 3986's unreserved characters (and '/' if asked). */
  static String encode(String s, boolean keepSlash) {
    StringBuilder sb = new StringBuilder(s.length() + 8);
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~' || (keepSlash && c == '/');
      if (plain) {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return sb.toString();
  }

  /** Builds a query string: {@code add} skips null values. */
  static final class Query {
    private final StringBuilder sb = new StringBuilder();

    Query add(String name, Object value) {
      if (value != null) {
        sb.append(sb.length() == 0 ? '?' : '&').append(name).append('=').append(encode(value.toString(), false));
      }
      return this;
    }

    Query flag(String name, boolean on) {
      return on ? add(name, "true") : this;
    }

    @Override
    public String toString() {
      return sb.toString();
    }
  }

  // ---- request bodies ---------------------------------------------------------------------

  static byte[] incrBody(long delta) {
    return write(MAPPER.createObjectNode().put("delta", delta));
  }

  static byte[] batchBody(boolean atomic, List<BatchOp> ops) {
    ObjectNode root = MAPPER.createObjectNode().put("atomic", atomic);
    ArrayNode list = root.putArray("ops");
    for (BatchOp op : ops) {
      ObjectNode o = list.addObject().put("op", op.kind().wire()).put("key", op.key());
      if (op.value() != null) {
        o.put("value", Base64.getEncoder().encodeToString(op.value()));
      }
      if (op.ttlSeconds() > 0) {
        o.put("ttl", op.ttlSeconds());
      }
      if (op.ifVersion() != null) {
        o.put("if_version", op.ifVersion());
      }
    }
    return write(root);
  }

  private static byte[] write(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  // ---- responses --------------------------------------------------------------------------

  static JsonNode json(Transport.Reply reply) {
    try {
      JsonNode n = MAPPER.readTree(reply.body());
      if (n == null || n.isMissingNode()) {
        throw malformed(reply, "empty body");
      }
      return n;
    } catch (IOException e) {
      throw malformed(reply, e.getMessage());
    }
  }

  private static FlotillaClientException malformed(Transport.Reply reply, String why) {
    return new FlotillaClientException("internal", reply.status(), "the node sent a body that is not the JSON of "
        + "shared/API.md (" + why + ")", null, null, reply.node(), null);
  }

  static PutResult putResult(Transport.Reply reply) {
    JsonNode n = json(reply);
    return new PutResult(n.path("key").asText(), n.path("version").asLong(), n.path("revision").asLong(),
        instant(n.get("expires_at")));
  }

  static DeleteResult deleteResult(Transport.Reply reply) {
    JsonNode n = json(reply);
    return new DeleteResult(n.path("key").asText(), n.path("deleted").asBoolean(), n.path("revision").asLong());
  }

  static IncrResult incrResult(Transport.Reply reply) {
    JsonNode n = json(reply);
    return new IncrResult(n.path("key").asText(), n.path("value").asLong(), n.path("version").asLong(),
        n.path("revision").asLong());
  }

  static KeyValue keyValue(Transport.Reply reply) {
    JsonNode n = json(reply);
    return new KeyValue(n.path("key").asText(), bytes(n.get("value")), n.path("version").asLong(),
        n.path("revision").asLong(), instant(n.get("expires_at")));
  }

  static ScanPage scanPage(Transport.Reply reply) {
    JsonNode n = json(reply);
    List<ScanItem> items = new ArrayList<>();
    for (JsonNode i : n.path("items")) {
      items.add(scanItem(i));
    }
    JsonNode cursor = n.get("cursor");
    return new ScanPage(items, cursor == null || cursor.isNull() ? null : cursor.asText());
  }

  private static ScanItem scanItem(JsonNode i) {
    JsonNode value = i.get("value");
    return new ScanItem(i.path("key").asText(), value == null || value.isNull() ? null : bytes(value),
        i.path("version").asLong(), instant(i.get("expires_at")));
  }

  static BatchResult batchResult(Transport.Reply reply, List<BatchOp> ops) {
    JsonNode n = json(reply);
    List<BatchOpResult> results = new ArrayList<>();
    JsonNode list = n.path("results");
    for (int i = 0; i < list.size(); i++) {
      JsonNode r = list.get(i);
      BatchOp.Kind kind = i < ops.size() ? ops.get(i).kind() : null;
      String key = r.path("key").asText(i < ops.size() ? ops.get(i).key() : "");
      if (r.hasNonNull("error")) {
        results.add(new BatchOpResult(kind, key, 0, 0, false, false, null, null,
            error(r, statusOf(r.path("error").asText()), reply)));
        continue;
      }
      JsonNode value = r.get("value");
      results.add(new BatchOpResult(kind, key, r.path("version").asLong(), r.path("revision").asLong(),
          r.path("deleted").asBoolean(), r.path("found").asBoolean(),
          value == null || value.isNull() ? null : bytes(value), instant(r.get("expires_at")), null));
    }
    return new BatchResult(results, n.path("succeeded").asInt(), n.path("failed").asInt());
  }

  /** One range of {@code GET /v1/admin/ranges}: {@code end} null means "to the end of the key space". */
  static List<RangeSpan> ranges(Transport.Reply reply) {
    List<RangeSpan> out = new ArrayList<>();
    for (JsonNode r : json(reply).path("ranges")) {
      JsonNode end = r.get("end");
      out.add(new RangeSpan(r.path("id").asLong(), KeyOrder.utf8(r.path("start").asText("")),
          end == null || end.isNull() ? KeyOrder.NONE : KeyOrder.utf8(end.asText())));
    }
    return out;
  }

  /** The header's value as a number, or 0 when absent or malformed. */
  static long longHeader(Transport.Reply reply, String name) {
    String v = reply.header(name);
    if (v == null) {
      return 0;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  // ---- errors -----------------------------------------------------------------------------

  /**
   * The exception for an error response. A {@code 504 timeout} of a write is an {@link
   * OutcomeUnknownException}; of a read it is a plain timeout (a read changes nothing).
   */
  static FlotillaClientException failure(Transport.Reply reply, boolean write) {
    JsonNode n;
    try {
      n = MAPPER.readTree(reply.body());
    } catch (IOException e) {
      n = null;
    }
    if (n == null || !n.isObject() || !n.hasNonNull("error")) {
      String text = new String(reply.body(), StandardCharsets.UTF_8);
      n = MAPPER.createObjectNode().put("error", codeOf(reply.status()))
          .put("message", text.isBlank() ? "HTTP " + reply.status() + " without an API error body" : text);
    }
    if (reply.status() == 504 && write) {
      return new OutcomeUnknownException(n.path("error").asText("timeout"), 504, n.path("message").asText(),
          reply.node(), null);
    }
    return error(n, reply.status(), reply);
  }

  private static FlotillaClientException error(JsonNode n, int status, Transport.Reply reply) {
    return new FlotillaClientException(n.path("error").asText(codeOf(status)), status, n.path("message").asText(""),
        n.hasNonNull("current_version") ? n.get("current_version").asLong() : null,
        n.hasNonNull("failed_index") ? n.get("failed_index").asInt() : null, reply.node(), null);
  }

  /** API.md's code for a status, for error responses without a JSON body. */
  static String codeOf(int status) {
    return switch (status) {
      case 400 -> "invalid_argument";
      case 401 -> "unauthenticated";
      case 403 -> "permission_denied";
      case 404 -> "not_found";
      case 409 -> "version_conflict";
      case 413 -> "too_large";
      case 422 -> "unprocessable";
      case 429 -> "overloaded";
      case 503 -> "unavailable";
      case 504 -> "timeout";
      default -> status >= 500 ? "internal" : "invalid_argument";
    };
  }

  /** The status API.md gives a code (for per-op errors of a batch, which arrive in a 200). */
  static int statusOf(String code) {
    return switch (code) {
      case "invalid_argument" -> 400;
      case "unauthenticated" -> 401;
      case "permission_denied" -> 403;
      case "not_found" -> 404;
      case "version_conflict" -> 409;
      case "too_large" -> 413;
      case "unprocessable" -> 422;
      case "overloaded" -> 429;
      case "unavailable" -> 503;
      case "timeout" -> 504;
      default -> 500;
    };
  }

  private static byte[] bytes(JsonNode v) {
    if (v == null || v.isNull()) {
      return new byte[0];
    }
    try {
      return Base64.getDecoder().decode(v.asText());
    } catch (IllegalArgumentException e) {
      throw new FlotillaClientException("internal", 200, "the node sent a value that is not base64", null, null,
          null, e);
    }
  }

  private static Instant instant(JsonNode v) {
    if (v == null || v.isNull()) {
      return null;
    }
    try {
      return Instant.parse(v.asText());
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
