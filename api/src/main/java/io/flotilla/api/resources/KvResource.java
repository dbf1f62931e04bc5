package io.flotilla.api.resources;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.api.config.LimitsConfig;
import io.flotilla.api.service.Cursors;
import io.flotilla.api.service.KeyService;
import io.flotilla.api.service.ReadMode;
import io.flotilla.api.service.ScanPage;
import io.flotilla.api.service.Served;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.common.Keys;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.GetResult;
import io.flotilla.proto.KeyValue;
import io.flotilla.proto.QueryResult;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.Encoded;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HEAD;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** {@code /v1/kv}: the "Keys" section of shared/API.md. Thin: parse, call {@link KeyService}, render. */
@Path("/v1/kv")
@Produces(MediaType.APPLICATION_JSON)
public class KvResource {
  private static final String INCR_SUFFIX = "/incr";

  private final KeyService keys;
  private final KeyCodec codec;
  private final LimitsConfig limits;
  private final Async async;
  private final Clock clock;
  private final ObjectMapper json;
  private final String nodeId;

  public KvResource(KeyService keys, LimitsConfig limits, Async async, Clock clock, ObjectMapper json, String nodeId) {
    this.keys = keys;
    this.codec = new KeyCodec(limits.maxKeyBytes);
    this.limits = limits;
    this.async = async;
    this.clock = clock;
    this.json = json;
    this.nodeId = nodeId;
  }

  @PUT
  @Path("{key: .+}")
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> put(@Encoded @PathParam("key") String rawKey, @QueryParam("ttl") String ttl,
      @QueryParam("if_version") String ifVersion, @HeaderParam("Content-Length") String contentLength,
      InputStream body) {
    return put(rawKey, ttl, ifVersion, contentLength, false, body);
  }

  /**
   * @param bodyNotAskedFor whether the client waits for {@code 100 Continue} before it sends
   *     the body, and the node has not sent it yet (it does when the body is first read): the
   *     put may then be refused before its body comes ({@link RefusedUnread})
   */
  CompletionStage<Response> put(String rawKey, String ttl, String ifVersion, String contentLength,
      boolean bodyNotAskedFor, InputStream body) {
    byte[] key = codec.fromPath(rawKey);
    long ttlSeconds = Params.ttl(ttl);
    Long expected = Params.ifVersion(ifVersion);
    if (bodyNotAskedFor) {
      refuseUnreadIfNoRoom(key, contentLength);
    }
    byte[] value = readValue(contentLength, body);
    return async.respond("put", true, keys.put(key, value, ttlSeconds, expected), res -> {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("key", Views.key(key));
      out.put("version", res.getPut().getVersion());
      out.put("revision", res.getRevision());
      if (res.getPut().getExpiresAtMillis() != 0) {
        out.put("expires_at", Views.expiresAt(res.getPut().getExpiresAtMillis()));
      }
      return Response.ok(out).build();
    });
  }

  @GET
  @Path("{key: .+}")
  @Produces({MediaType.APPLICATION_JSON, MediaType.APPLICATION_OCTET_STREAM})
  public CompletionStage<Response> get(@Encoded @PathParam("key") String rawKey,
      @QueryParam("consistency") String consistency, @QueryParam("min_revision") String minRevision,
      @QueryParam("raw") String rawParam) {
    byte[] key = codec.fromPath(rawKey);
    ReadMode mode = ReadMode.parse(consistency);
    boolean raw = Params.flag("raw", rawParam);
    return async.respond("get", false, keys.get(key, mode, Params.minRevision(minRevision)), served -> {
      GetResult g = served.result().getGet();
      if (!g.getFound()) {
        return withReadHeaders(ErrorBodies.of(new FlotillaException(ErrorCode.NOT_FOUND,
            "key '" + Views.key(key) + "' does not exist")), served, mode);
      }
      KeyValue kv = g.getKv();
      if (raw) {
        return withReadHeaders(Response.ok(kv.getValue(), MediaType.APPLICATION_OCTET_STREAM_TYPE)
            .header("X-Flotilla-Version", kv.getVersion())
            .header("X-Flotilla-Revision", served.result().getRevision()), served, mode);
      }
      Map<String, Object> out = Views.item(kv, true);
      out.put("revision", served.result().getRevision());
      if (kv.getExpiresAtMillis() != 0) {
        out.put("ttl_remaining", Views.ttlRemaining(kv.getExpiresAtMillis(), clock.millis()));
      }
      return withReadHeaders(Response.ok(out, MediaType.APPLICATION_JSON_TYPE), served, mode);
    });
  }

  @HEAD
  @Path("{key: .+}")
  public CompletionStage<Response> head(@Encoded @PathParam("key") String rawKey,
      @QueryParam("consistency") String consistency, @QueryParam("min_revision") String minRevision) {
    byte[] key = codec.fromPath(rawKey);
    ReadMode mode = ReadMode.parse(consistency);
    return async.respond("head", false, keys.exists(key, mode, Params.minRevision(minRevision)), served -> {
      GetResult g = served.result().getGet();
      if (!g.getFound()) {
        return withReadHeaders(Response.status(Response.Status.NOT_FOUND), served, mode);
      }
      return withReadHeaders(Response.ok()
          .header("X-Flotilla-Version", g.getKv().getVersion())
          .header("X-Flotilla-Revision", served.result().getRevision()), served, mode);
    });
  }

  @DELETE
  @Path("{key: .+}")
  public CompletionStage<Response> delete(@Encoded @PathParam("key") String rawKey,
      @QueryParam("if_version") String ifVersion) {
    byte[] key = codec.fromPath(rawKey);
    Long expected = Params.ifVersion(ifVersion);
    return async.respond("delete", true, keys.delete(key, expected), res -> {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("key", Views.key(key));
      out.put("deleted", res.getDelete().getDeleted());
      out.put("revision", res.getRevision());
      return Response.ok(out).build();
    });
  }

  /** {@code POST /v1/kv/{key}/incr}; the key itself may contain '/'. */
  @POST
  @Path("{key: .+}")
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> post(@Encoded @PathParam("key") String rawPath, InputStream body) {
    if (!rawPath.endsWith(INCR_SUFFIX) || rawPath.length() == INCR_SUFFIX.length()) {
      throw new FlotillaException(ErrorCode.NOT_FOUND,
          "POST is only defined for /v1/kv/{key}/incr; use PUT to write a key");
    }
    byte[] key = codec.fromPath(rawPath.substring(0, rawPath.length() - INCR_SUFFIX.length()));
    long delta = parseDelta(body);
    return async.respond("incr", true, keys.incr(key, delta), res -> {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("key", Views.key(key));
      out.put("value", res.getIncr().getValue());
      out.put("version", res.getIncr().getVersion());
      out.put("revision", res.getRevision());
      return Response.ok(out).build();
    });
  }

  /** {@code PUT /v1/kv/} (and POST): a write with an empty key. */
  @PUT
  @Consumes(MediaType.WILDCARD)
  public Response putEmptyKey() {
    throw Params.invalid("the key is empty; keys are 1 to " + limits.maxKeyBytes + " bytes of UTF-8");
  }

  @POST
  @Consumes(MediaType.WILDCARD)
  public Response postEmptyKey() {
    return putEmptyKey();
  }

  @GET
  public CompletionStage<Response> scan(@QueryParam("start") String start, @QueryParam("end") String end,
      @QueryParam("prefix") String prefix, @QueryParam("limit") String limit, @QueryParam("reverse") String reverse,
      @QueryParam("keys_only") String keysOnly, @QueryParam("cursor") String cursor,
      @QueryParam("consistency") String consistency, @QueryParam("min_revision") String minRevision) {
    byte[][] span = span(start, end, prefix, false);
    int pageSize = Params.limit(limit, limits.defaultScanLimit, limits.maxScanLimit);
    boolean backwards = Params.flag("reverse", reverse);
    boolean noValues = Params.flag("keys_only", keysOnly);
    ReadMode mode = ReadMode.parse(consistency);
    byte[] position = backwards ? span[1] : span[0];
    if (cursor != null && !cursor.isEmpty()) {
      position = Cursors.decode(cursor, backwards);
      boolean outside = backwards
          ? (span[1].length != 0 && (position.length == 0 || Keys.compare(position, span[1]) > 0))
          : Keys.compare(position, span[0]) < 0;
      if (outside) {
        throw Params.invalid("cursor lies outside the requested start/end/prefix");
      }
    }
    return async.respond("scan", false,
        keys.scan(span[0], span[1], position, pageSize, backwards, noValues, mode, Params.minRevision(minRevision)),
        (ScanPage page) -> {
          List<Map<String, Object>> items = new ArrayList<>();
          page.items().forEach(kv -> items.add(Views.item(kv, !noValues)));
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("items", items);
          out.put("cursor", page.cursor());
          return withReadHeaders(Response.ok(out), page.servedBy(), page.appliedRevision(), mode);
        });
  }

  @DELETE
  public CompletionStage<Response> deleteSpan(@QueryParam("start") String start, @QueryParam("end") String end,
      @QueryParam("prefix") String prefix) {
    byte[][] span = span(start, end, prefix, true);
    return async.respond("delete_span", true, keys.deleteSpan(span[0], span[1]),
        deleted -> Response.ok(Map.of("deleted", deleted)).build());
  }

  /** [start, end) from start/end or prefix; {@code required} demands one of them. */
  private byte[][] span(String start, String end, String prefix, boolean required) {
    boolean hasPrefix = prefix != null;
    boolean hasBounds = start != null || end != null;
    if (hasPrefix && hasBounds) {
      throw Params.invalid("give either prefix or start/end, not both");
    }
    if (required && !hasPrefix && !hasBounds) {
      throw Params.invalid("deleting a range needs start and end, or prefix (refusing to delete every key)");
    }
    if (hasPrefix) {
      byte[] p = codec.bound(prefix, "prefix");
      if (required && p.length == 0) {
        throw Params.invalid("prefix must not be empty when deleting");
      }
      return new byte[][] {p, p.length == 0 ? new byte[0] : Keys.prefixEnd(p)};
    }
    byte[] s = codec.bound(start, "start");
    byte[] e = codec.bound(end, "end");
    if (required && s.length == 0 && e.length == 0) {
      // Empty bounds are no bounds: "?start=" alone would be every key.
      throw Params.invalid("deleting a range needs a non-empty start or end (refusing to delete every key)");
    }
    if (e.length != 0 && Keys.compare(s, e) >= 0) {
      throw Params.invalid("start must be before end");
    }
    return new byte[][] {s, e};
  }

  private Response withReadHeaders(Response.ResponseBuilder r, Served<QueryResult> served, ReadMode mode) {
    return withReadHeaders(r, served.servedBy(), served.appliedRevision(), mode);
  }

  /** API.md's read headers: who served the read and, for follower and stale reads, its applied revision. */
  static Response withReadHeaders(Response.ResponseBuilder r, String servedBy, long appliedRevision, ReadMode mode) {
    if (servedBy != null) {
      r.header("X-Flotilla-Served-By", servedBy);
    }
    if (mode != ReadMode.STRONG && appliedRevision >= 0) {
      r.header("X-Flotilla-Applied-Revision", appliedRevision);
    }
    return r.build();
  }

  private Response withReadHeaders(Response error, Served<QueryResult> served, ReadMode mode) {
    return withReadHeaders(Response.fromResponse(error), served, mode);
  }

  /**
   * A put refused before its body was sent: its body is large ({@link BodyBudget#SMALL_BYTES}
   * or more, as declared), its client waits for {@code 100 Continue} before sending it, and its
   * range's queue has no room for it now. Under a flood of large puts, reading the bodies a
   * node refuses would take the CPU the accepted ones need. Only a client that waits is
   * refused so: one that sends its body at once would be writing it while the node closes the
   * connection, and could lose the answer to a reset (its body is read as before, and its
   * queue refuses it after). The connection closes after the answer, in case the body comes
   * anyway. Only {@link KvFastPath} asks for it: Jersey opens every request's body, which sends
   * {@code 100 Continue}, before a resource sees the request.
   */
  static final class RefusedUnread extends FlotillaException {
    RefusedUnread(FlotillaException refusal) {
      super(refusal.code(), refusal.getMessage(), refusal.details(), null);
    }
  }

  private void refuseUnreadIfNoRoom(byte[] key, String contentLength) {
    long length = largeLength(contentLength);
    FlotillaException full = length < 0 ? null : keys.refusalOfPut(key, length);
    if (full != null) {
      throw new RefusedUnread(full);
    }
  }

  /** The declared length of a body large enough to refuse unread and not too large to take, else -1. */
  private long largeLength(String contentLength) {
    long length = declaredLength(contentLength);
    return length >= BodyBudget.SMALL_BYTES && length <= limits.maxValueBytes ? length : -1;
  }

  /** The body's length as declared, or -1 if not declared (or not a number: the container rejects those). */
  private static long declaredLength(String contentLength) {
    try {
      return contentLength == null ? -1 : Long.parseLong(contentLength.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private byte[] readValue(String contentLength, InputStream body) {
    long declared = declaredLength(contentLength);
    if (declared > limits.maxValueBytes) {
      throw tooLarge(declared);
    }
    try {
      byte[] value = body == null ? new byte[0] : body.readNBytes(limits.maxValueBytes + 1);
      if (value.length > limits.maxValueBytes) {
        throw tooLarge(value.length);
      }
      return value;
    } catch (IOException e) {
      throw Params.invalid("could not read the request body: " + e.getMessage());
    }
  }

  private FlotillaException tooLarge(long size) {
    return new FlotillaException(ErrorCode.TOO_LARGE,
        "the value is " + size + " bytes or more; the limit is " + limits.maxValueBytes);
  }

  private long parseDelta(InputStream body) {
    byte[] bytes;
    try {
      bytes = body == null ? new byte[0] : body.readNBytes(4096);
    } catch (IOException e) {
      throw Params.invalid("could not read the request body: " + e.getMessage());
    }
    if (new String(bytes, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
      return 1;
    }
    JsonNode node;
    try {
      node = json.readTree(bytes);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw Params.invalid("the body must be JSON such as {\"delta\": 5}: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw Params.invalid("could not read the request body: " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      throw Params.invalid("the body must be a JSON object such as {\"delta\": 5}");
    }
    JsonNode delta = node.get("delta");
    if (delta == null || delta.isNull()) {
      return 1;
    }
    if (!delta.isIntegralNumber() || !delta.canConvertToLong()) {
      throw Params.invalid("delta must be a 64-bit integer");
    }
    return delta.asLong();
  }
}
