package io.flotilla.api.resources;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.api.auth.Principal;
import io.flotilla.api.auth.Role;
import io.flotilla.api.config.LimitsConfig;
import io.flotilla.api.service.BatchOpSpec;
import io.flotilla.api.service.KeyService;
import io.flotilla.api.service.OpOutcome;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.EntryResult;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/** {@code POST /v1/batch}: the "Batches" section of shared/API.md. */
@Path("/v1/batch")
@Produces(MediaType.APPLICATION_JSON)
public class BatchResource {
  private static final Set<String> FIELDS = Set.of("op", "key", "value", "ttl", "if_version");

  private final KeyService keys;
  private final KeyCodec codec;
  private final LimitsConfig limits;
  private final Async async;
  private final ObjectMapper json;

  public BatchResource(KeyService keys, LimitsConfig limits, Async async, ObjectMapper json) {
    this.keys = keys;
    this.codec = new KeyCodec(limits.maxKeyBytes);
    this.limits = limits;
    this.async = async;
    this.json = json;
  }

  @POST
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> batch(@jakarta.ws.rs.QueryParam("consistency") String consistency,
      @jakarta.ws.rs.QueryParam("min_revision") String minRevision, InputStream body,
      @Context HttpServletRequest request) {
    io.flotilla.api.service.ReadMode mode = io.flotilla.api.service.ReadMode.parse(consistency);
    long atRevision = Params.minRevision(minRevision);
    JsonNode root = parse(body);
    JsonNode atomicNode = root.get("atomic");
    if (atomicNode != null && !atomicNode.isBoolean() && !atomicNode.isNull()) {
      throw Params.invalid("atomic must be true or false");
    }
    boolean atomic = atomicNode != null && atomicNode.asBoolean();
    JsonNode opsNode = root.get("ops");
    if (opsNode == null || !opsNode.isArray()) {
      throw Params.invalid("the batch needs an \"ops\" array");
    }
    if (opsNode.size() > limits.maxBatchOps) {
      throw new FlotillaException(ErrorCode.TOO_LARGE,
          "the batch has " + opsNode.size() + " ops; the limit is " + limits.maxBatchOps);
    }
    List<BatchOpSpec> ops = new ArrayList<>();
    long bytes = 0;
    // A batch's writes to one range share a revision, so two writes of one key would share a
    // version, and a version names one value of its key: each key is written at most once.
    Map<java.nio.ByteBuffer, Integer> written = new java.util.HashMap<>();
    for (int i = 0; i < opsNode.size(); i++) {
      BatchOpSpec op = op(opsNode.get(i), i);
      bytes += op.key().length + (op.value() == null ? 0 : op.value().length);
      if (op.kind() != BatchOpSpec.Kind.GET) {
        Integer first = written.putIfAbsent(java.nio.ByteBuffer.wrap(op.key()), i);
        if (first != null) {
          throw Params.invalid("ops[" + i + "] writes key '" + Views.key(op.key()) + "', which ops[" + first
              + "] writes already; a batch writes each key at most once");
        }
      }
      ops.add(op);
    }
    if (bytes > limits.maxBatchBytes) {
      throw new FlotillaException(ErrorCode.TOO_LARGE,
          "the batch holds " + bytes + " bytes of keys and values; the limit is " + limits.maxBatchBytes);
    }
    boolean writes = ops.stream().anyMatch(o -> o.kind() != BatchOpSpec.Kind.GET);
    if (writes && atRevision > 0) {
      // Its gets would wait for the revision while its writes are done: a wait past the request
      // timeout would report the applied writes' outcome as unknown.
      throw Params.invalid("min_revision applies to batches that only read; send the gets in a batch of their own");
    }
    if (writes) {
      Principal.require(request, Role.WRITE, "a batch with puts or deletes");
    }
    return async.respond("batch", writes,
        keys.batch(atomic, ops, mode, atRevision), outcomes -> render(ops, outcomes));
  }

  private JsonNode parse(InputStream body) {
    try {
      JsonNode root = json.readTree(body);
      if (root == null || !root.isObject()) {
        throw Params.invalid("the body must be a JSON object {\"atomic\": bool, \"ops\": [...]}");
      }
      return root;
    } catch (JsonProcessingException e) {
      throw Params.invalid("the body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw Params.invalid("could not read the request body: " + e.getMessage());
    }
  }

  private BatchOpSpec op(JsonNode node, int i) {
    String where = "ops[" + i + "]";
    if (node == null || !node.isObject()) {
      throw Params.invalid(where + " must be an object");
    }
    node.fieldNames().forEachRemaining(f -> {
      if (!FIELDS.contains(f)) {
        throw Params.invalid(where + " has an unknown field '" + f + "'");
      }
    });
    JsonNode opName = node.get("op");
    JsonNode keyNode = node.get("key");
    if (keyNode == null || !keyNode.isTextual()) {
      throw Params.invalid(where + ".key must be a string");
    }
    byte[] key = codec.validate(codec.fromString(keyNode.asText(), where + ".key"));
    String kind = opName == null || !opName.isTextual() ? "" : opName.asText();
    return switch (kind) {
      case "put" -> new BatchOpSpec(BatchOpSpec.Kind.PUT, key, value(node.get("value"), where),
          ttl(node.get("ttl"), where), ifVersion(node.get("if_version"), where));
      case "delete" -> {
        rejectField(node, "value", where, kind);
        rejectField(node, "ttl", where, kind);
        yield new BatchOpSpec(BatchOpSpec.Kind.DELETE, key, null, 0, ifVersion(node.get("if_version"), where));
      }
      case "get" -> {
        rejectField(node, "value", where, kind);
        rejectField(node, "ttl", where, kind);
        rejectField(node, "if_version", where, kind);
        yield new BatchOpSpec(BatchOpSpec.Kind.GET, key, null, 0, null);
      }
      default -> throw Params.invalid(where + ".op must be \"put\", \"delete\" or \"get\"");
    };
  }

  private static void rejectField(JsonNode node, String field, String where, String kind) {
    if (node.has(field)) {
      throw Params.invalid(where + ": a " + kind + " op takes no " + field);
    }
  }

  private byte[] value(JsonNode v, String where) {
    if (v == null || !v.isTextual()) {
      throw Params.invalid(where + ".value must be a base64 string");
    }
    byte[] value;
    try {
      value = Base64.getDecoder().decode(v.asText());
    } catch (IllegalArgumentException e) {
      throw Params.invalid(where + ".value is not valid base64");
    }
    if (value.length > limits.maxValueBytes) {
      throw new FlotillaException(ErrorCode.TOO_LARGE,
          where + ".value is " + value.length + " bytes; the limit is " + limits.maxValueBytes);
    }
    return value;
  }

  private static long ttl(JsonNode v, String where) {
    if (v == null || v.isNull()) {
      return 0;
    }
    if (!v.isIntegralNumber() || v.asLong() <= 0 || v.asLong() > Params.MAX_TTL_SECONDS) {
      throw Params.invalid(where + ".ttl must be a whole number of seconds between 1 and " + Params.MAX_TTL_SECONDS);
    }
    return v.asLong();
  }

  private static Long ifVersion(JsonNode v, String where) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
      throw Params.invalid(where + ".if_version must be 0 (must not exist) or a positive version");
    }
    return v.asLong();
  }

  private static Response render(List<BatchOpSpec> ops, List<OpOutcome> outcomes) {
    List<Map<String, Object>> results = new ArrayList<>();
    int succeeded = 0;
    for (int i = 0; i < ops.size(); i++) {
      OpOutcome o = outcomes.get(i);
      String key = Views.key(ops.get(i).key());
      Map<String, Object> m = new LinkedHashMap<>();
      if (o.error() != null) {
        m.put("error", o.error().code().wireName());
        m.put("message", o.error().getMessage());
        m.putAll(o.error().details());
        m.put("key", key);
      } else {
        succeeded++;
        EntryResult r = o.result();
        switch (r.getOutcomeCase()) {
          case PUT -> {
            m.put("op", "put");
            m.put("key", key);
            m.put("version", r.getPut().getVersion());
            m.put("revision", o.revision());
            if (r.getPut().getExpiresAtMillis() != 0) {
              m.put("expires_at", Views.expiresAt(r.getPut().getExpiresAtMillis()));
            }
          }
          case DELETE -> {
            m.put("op", "delete");
            m.put("key", key);
            m.put("deleted", r.getDelete().getDeleted());
            m.put("revision", o.revision());
          }
          case GET -> {
            m.put("op", "get");
            if (r.getGet().getFound()) {
              m.putAll(Views.item(r.getGet().getKv(), true));
              m.put("found", true);
            } else {
              m.put("key", key);
              m.put("found", false);
            }
          }
          default -> throw new FlotillaException(ErrorCode.INTERNAL, "batch op " + i + " has no result");
        }
      }
      results.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("results", results);
    out.put("succeeded", succeeded);
    out.put("failed", ops.size() - succeeded);
    return Response.ok(out).build();
  }
}
