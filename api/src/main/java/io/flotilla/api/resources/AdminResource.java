package io.flotilla.api.resources;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.api.service.ConsistencyCheck;
import io.flotilla.api.service.ConsistencyChecks;
import io.flotilla.api.service.KeyService;
import io.flotilla.api.service.NodeStats;
import io.flotilla.api.service.OperationLog;
import io.flotilla.api.service.RangeOperations;
import io.flotilla.common.ClusterNode;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.PdState;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeChange;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeStatus;
import io.flotilla.proto.StatusQuery;
import io.flotilla.raft.NodeHost;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

/**
 * shared/API.md's admin section: cluster and range status, and the range operations one node
 * drives itself (split, merge, transfer-leader), recorded in the node's operation log.
 */
@Path("/v1/admin")
@Produces(MediaType.APPLICATION_JSON)
public class AdminResource {
  private final NodeHost host;
  private final NodeStats stats;
  private final HttpClient http;
  private final ObjectMapper json;
  private final Async async;
  private final KeyCodec codec;
  private final int replication;
  private final io.flotilla.api.service.ReplicaReader replicas;
  private final RangeOperations operations;
  private final OperationLog log;
  private final io.flotilla.api.service.PdClient pd;
  private final ConsistencyChecks consistency;
  private final long acceptAfterMillis;

  public AdminResource(NodeHost host, io.flotilla.api.service.ReplicaReader replicas, NodeStats stats, HttpClient http,
      ObjectMapper json, Async async, int maxKeyBytes, int replication, RangeOperations operations, OperationLog log,
      io.flotilla.api.service.PdClient pd, ConsistencyChecks consistency,
      long acceptAfterMillis) {
    this.host = host;
    this.consistency = consistency;
    this.pd = pd;
    this.acceptAfterMillis = acceptAfterMillis;
    this.operations = operations;
    this.log = log;
    this.replicas = replicas;
    this.stats = stats;
    this.http = http;
    this.json = json;
    this.async = async;
    this.codec = new KeyCodec(maxKeyBytes);
    this.replication = replication;
  }

  @GET
  @Path("cluster")
  public CompletionStage<Response> cluster() {
    List<CompletableFuture<Map<String, Object>>> nodes = new ArrayList<>();
    for (ClusterNode node : host.nodes().values()) {
      nodes.add(nodeView(node));
    }
    CompletableFuture<Map<String, String>> declared = pd.state().handle((state, e) -> {
      Map<String, String> m = new java.util.HashMap<>();
      if (state != null) {
        state.getNodesList().forEach(n -> m.put(n.getNode(), n.getState().toLowerCase(java.util.Locale.ROOT)));
      }
      return m;
    });
    CompletableFuture<List<Map<String, Object>>> all = CompletableFuture.allOf(nodes.toArray(CompletableFuture[]::new))
        .thenCombine(declared, (x, states) -> nodes.stream().map(CompletableFuture::join).map(v -> {
          String d = states.get((String) v.get("id"));
          if (d != null && !"up".equals(d) && "up".equals(v.get("state"))) {
            v.put("state", d); // decommissioning or removed, and still running
          }
          return v;
        }).toList());
    return async.respond("admin_cluster", false, all, views -> {
      Map<String, Object> summary = new LinkedHashMap<>();
      summary.put("ranges", host.routing().all().size());
      summary.put("replication_factor", replication);
      summary.put("nodes_up", views.stream().filter(v -> "up".equals(v.get("state"))).count());
      summary.put("placement_driver_leader", pd.leader().orElse(null));
      summary.put("placement_driver_members", pd.known().getIdsList());
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("nodes", views);
      out.put("summary", summary);
      return Response.ok(out).build();
    });
  }

  private CompletableFuture<Map<String, Object>> nodeView(ClusterNode node) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("id", node.id());
    view.put("http", node.httpUrl());
    view.put("raft", node.raftAddress());
    CompletableFuture<Map<String, Object>> remote = node.id().equals(host.self().id())
        ? CompletableFuture.completedFuture(stats.snapshot())
        : fetch(node, "/internal/v1/stats", new TypeReference<Map<String, Object>>() { });
    return remote.thenApply(s -> {
      view.put("state", s == null ? "down" : "up");
      if (s != null) {
        s.remove("id");
        view.putAll(s);
      }
      return view;
    });
  }

  /** A peer's JSON answer to an internal GET within a second, or null when it gives none. */
  private <T> CompletableFuture<T> fetch(ClusterNode node, String path, TypeReference<T> type) {
    HttpRequest req = HttpRequest.newBuilder(URI.create(node.httpUrl() + path)).timeout(Duration.ofSeconds(1)).GET().build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()).thenApply(resp -> {
      if (resp.statusCode() != 200) {
        return null;
      }
      try {
        return json.readValue(resp.body(), type);
      } catch (java.io.IOException e) {
        return null;
      }
    }).exceptionally(e -> null);
  }

  @GET
  @Path("ranges")
  public CompletionStage<Response> ranges(@QueryParam("key") String key) {
    if (key != null) {
      byte[] k = codec.validate(codec.fromString(key, "key"));
      RangeDescriptor r = host.routing().lookup(k);
      return async.respond("admin_ranges", false, rangeView(r, false, false), view -> {
        if (view == null) {
          throw new FlotillaException(ErrorCode.UNAVAILABLE, "the range owning this key just changed; retry");
        }
        return Response.ok(view).build();
      });
    }
    return async.respond("admin_ranges", false, listRanges(0), list -> Response.ok(Map.of("ranges", list)).build());
  }

  /**
   * Every range as its leader describes it. A range that splits or merges while it is being
   * listed leaves a hole or an overlap between the answers; the listing is then made again
   * (routing has learnt the change from those answers), a few times at most.
   */
  private CompletableFuture<List<Map<String, Object>>> listRanges(int attempt) {
    return operations.allRanges().thenCompose(ranges -> {
      List<CompletableFuture<Map<String, Object>>> views = ranges.stream().map(r -> rangeView(r, false, false)).toList();
      return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new))
          .thenApply(x -> views.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull).toList());
    }).thenCompose(list -> attempt < 3 && !tilesKeySpace(list) ? listRanges(attempt + 1)
        : CompletableFuture.completedFuture(list));
  }

  /** Whether the views, in order, cover the whole key space without a hole or an overlap. */
  private static boolean tilesKeySpace(List<Map<String, Object>> views) {
    Object expected = Views.key(new byte[0]);
    for (Map<String, Object> v : views) {
      if (expected == null || !expected.equals(v.get("start"))) {
        return false;
      }
      expected = v.get("end");
    }
    return !views.isEmpty() && expected == null;
  }

  @GET
  @Path("ranges/{id}")
  public CompletionStage<Response> range(@PathParam("id") String id, @QueryParam("checksum") String checksum) {
    long rangeId = rangeId(id);
    boolean withChecksum = Params.flag("checksum", checksum);
    CompletableFuture<Map<String, Object>> view = operations.findRange(rangeId).thenCompose(found -> rangeView(
        found.orElseThrow(() -> new FlotillaException(ErrorCode.NOT_FOUND, "there is no range " + rangeId)), true,
        withChecksum));
    return async.respond("admin_range", false, view, v -> {
      if (v == null) {
        throw new FlotillaException(ErrorCode.NOT_FOUND, "there is no range " + rangeId
            + " (it was merged into its left neighbour)");
      }
      return Response.ok(v).build();
    });
  }

  /**
   * A range as API.md describes it; size and key count come from its leader. Null when the
   * range turns out not to exist any more (this node's routing still knew it).
   */
  private CompletableFuture<Map<String, Object>> rangeView(RangeDescriptor r, boolean withReplicas, boolean checksum) {
    Query status = Query.newBuilder().setRangeId(r.getId()).setStatus(StatusQuery.getDefaultInstance()).build();
    Query replicaStatus = Query.newBuilder().setRangeId(r.getId())
        .setStatus(StatusQuery.newBuilder().setWithChecksum(checksum)).build();
    // A range asleep here has had no write anywhere since it fell asleep (a use wakes one
    // replica, whose election wakes the others): its status comes from this node's replica,
    // and looking at it does not wake it.
    boolean asleep = host.asleep(r.getId()) && host.replica(r.getId()).isPresent();
    CompletableFuture<java.util.Optional<QueryResult>> leaderStatus = asleep
        ? CompletableFuture.completedFuture(java.util.Optional.of(host.replica(r.getId()).orElseThrow().queryLocal(status)))
        : operations.readOrGone(r, status).exceptionally(e -> java.util.Optional.of(QueryResult.getDefaultInstance()));
    return leaderStatus.thenCompose(found -> {
      if (found.isEmpty()) {
        return CompletableFuture.completedFuture(null);
      }
      QueryResult ls = found.get();
      Map<String, Object> v = new LinkedHashMap<>();
      RangeDescriptor current = ls != null && ls.hasStatus() ? ls.getStatus().getRange() : r;
      if (ls != null && ls.hasStatus()) {
        host.routing().update(current);
      }
      v.putAll(descriptorView(current));
      v.put("leader", asleep ? null : host.leaderOf(current).orElse(null));
      if (asleep) {
        v.put("asleep", true); // no Raft division runs until its next use (docs/design-notes.md)
      }
      RangeStatus st = ls != null && ls.hasStatus() ? ls.getStatus() : null;
      v.put("approximate_size", st == null ? null : st.getApproximateBytes());
      v.put("key_count", st == null ? null : st.getApproximateKeys());
      v.put("revision", st == null ? null : st.getState().getRevision());
      // The Raft group's voting members as the answering replica holds them: they differ from
      // "replicas" while a replica change is under way (or stopped half-way, until repaired).
      v.put("raft_members", st == null || st.getRaftMembersCount() == 0 ? null : st.getRaftMembersList());
      if (!withReplicas) {
        return CompletableFuture.completedFuture(v);
      }
      List<CompletableFuture<Map<String, Object>>> replicas = current.getReplicasList().stream()
          .map(node -> replicaView(current, node, replicaStatus, checksum)).toList();
      return CompletableFuture.allOf(replicas.toArray(CompletableFuture[]::new)).thenApply(x -> {
        v.put("replica_status", replicas.stream().map(CompletableFuture::join).toList());
        return v;
      });
    });
  }

  private static Map<String, Object> descriptorView(RangeDescriptor r) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("id", r.getId());
    v.put("start", Views.key(r.getStart().toByteArray()));
    v.put("end", r.getEnd().isEmpty() ? null : Views.key(r.getEnd().toByteArray()));
    v.put("epoch", Map.of("version", r.getEpoch().getVersion(), "conf", r.getEpoch().getConf()));
    v.put("replicas", r.getReplicasList());
    if (r.getFrozenInto() != 0) {
      v.put("merging_into", r.getFrozenInto());
    }
    return v;
  }

  // ---- range operations -----------------------------------------------------------------

  @POST
  @Path("ranges/{id}/split")
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> split(@PathParam("id") String id, InputStream body) {
    long rangeId = rangeId(id);
    JsonNode req = parseBody(body);
    byte[] at = null;
    JsonNode atNode = req.get("at");
    if (atNode != null && !atNode.isNull()) {
      if (!atNode.isTextual()) {
        throw Params.invalid("\"at\" must be a key (a string)");
      }
      at = codec.validate(codec.fromString(atNode.asText(), "at"));
    }
    OperationLog.Tracked<RangeChange> op = log.track("split", Map.of("range", rangeId), operations.split(rangeId, at),
        change -> Map.of("ranges", List.of(descriptorView(change.getRange()), descriptorView(change.getCreated()))));
    return respondOrAccept("admin_split", op);
  }

  @POST
  @Path("ranges/merge")
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> merge(InputStream body) {
    JsonNode req = parseBody(body);
    long left = idField(req, "left");
    long right = idField(req, "right");
    OperationLog.Tracked<RangeChange> op = log.track("merge", Map.of("left", left, "right", right),
        operations.merge(left, right), change -> Map.of("range", descriptorView(change.getRange())));
    return respondOrAccept("admin_merge", op);
  }

  @POST
  @Path("ranges/{id}/transfer-leader")
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> transferLeader(@PathParam("id") String id, InputStream body) {
    long rangeId = rangeId(id);
    String to = nodeField(parseBody(body), "to");
    OperationLog.Tracked<String> op = log.track("transfer-leader", Map.of("range", rangeId, "to", to),
        operations.transferLeader(rangeId, to), leader -> Map.of("range", rangeId, "leader", leader));
    return respondOrAccept("admin_transfer_leader", op);
  }

  /**
   * A consistency check of the range (not in API.md): every replica computes a checksum of the
   * range's data as of one log entry, and the answer compares them: {@code consistent},
   * {@code inconsistent} (the replicas diverged; also logged as an error), or
   * {@code incomplete} (a replica had no result in time).
   */
  @POST
  @Path("ranges/{id}/check-consistency")
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> checkConsistency(@PathParam("id") String id) {
    long rangeId = rangeId(id);
    OperationLog.Tracked<ConsistencyCheck> op = log.track("check-consistency",
        Map.of("range", rangeId), consistency.check(rangeId), ConsistencyCheck::view);
    return respondOrAccept("admin_check_consistency", op);
  }

  @POST
  @Path("ranges/{id}/move")
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> move(@PathParam("id") String id, InputStream body) {
    long rangeId = rangeId(id);
    JsonNode req = parseBody(body);
    String from = nodeField(req, "from");
    String to = nodeField(req, "to");
    OperationLog.Tracked<RangeDescriptor> op = log.track("move", Map.of("range", rangeId, "from", from, "to", to),
        operations.move(rangeId, from, to), range -> Map.of("range", descriptorView(range)));
    return respondOrAccept("admin_move", op);
  }

  private static String nodeField(JsonNode req, String field) {
    JsonNode n = req.get(field);
    if (n == null || !n.isTextual() || n.asText().isEmpty()) {
      throw Params.invalid("\"" + field + "\" (a node id) is required");
    }
    return n.asText();
  }

  /**
   * The placement driver's operators (running first, then recent ones) and decommissions, then
   * the operations this node ran directly for admin calls.
   */
  @GET
  @Path("operations")
  public CompletionStage<Response> operations() {
    // Each node's own operations (admin calls it accepted), gathered from every node: a client
    // may ask any node about an operation another one accepted.
    Map<String, CompletableFuture<List<Map<String, Object>>>> perNode = new LinkedHashMap<>();
    for (ClusterNode node : host.nodes().values()) {
      perNode.put(node.id(), node.id().equals(host.self().id()) ? CompletableFuture.completedFuture(log.views())
          : fetch(node, "/internal/v1/operations",
              new TypeReference<List<Map<String, Object>>>() { }));
    }
    // Without the placement driver (no quorum), the nodes' own operations are still listed.
    AtomicReference<String> pdError = new AtomicReference<>();
    CompletableFuture<PdState> driver = pd.state().exceptionally(e -> {
      pdError.set(KeyService.unwrap(e).getMessage());
      return PdState.getDefaultInstance();
    });
    CompletableFuture<?> all = CompletableFuture.allOf(perNode.values().toArray(CompletableFuture[]::new));
    return async.respond("admin_operations", false, driver.thenCombine(all, (state, x) -> state), state -> {
      List<Map<String, Object>> out = new ArrayList<>();
      for (io.flotilla.proto.NodeStateChange n : state.getNodesList()) {
        if (!"UP".equals(n.getState())) {
          Map<String, Object> v = new LinkedHashMap<>();
          v.put("id", "decommission-" + n.getNode());
          v.put("type", "decommission");
          v.put("node", n.getNode());
          v.put("status", "REMOVED".equals(n.getState()) ? "succeeded" : "running");
          out.add(v);
        }
      }
      for (io.flotilla.proto.PdOperator op : state.getOperatorsList()) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("id", op.getId());
        v.put("type", op.getKind());
        v.put("range", op.getRangeId() == io.flotilla.pd.PdPlacement.RANGE_ID ? null : op.getRangeId());
        v.put("steps", op.getStepsList().stream().map(st -> st.getKindCase().name().toLowerCase(java.util.Locale.ROOT)
            + " " + switch (st.getKindCase()) {
              case ADD_REPLICA -> st.getAddReplica();
              case REMOVE_REPLICA -> st.getRemoveReplica();
              case TRANSFER_LEADER -> st.getTransferLeader();
              case SPLIT -> st.getSplit();
              case MERGE_WITH -> String.valueOf(st.getMergeWith());
              case KIND_NOT_SET -> "";
            }).toList());
        v.put("progress", Math.min(op.getNextStep(), op.getStepsCount()) + "/" + op.getStepsCount());
        v.put("status", op.getStatus());
        v.put("reason", op.getReason());
        v.put("started_at", java.time.Instant.ofEpochMilli(op.getStartedAtMillis()).toString());
        v.put("finished_at", op.getFinishedAtMillis() == 0 ? null
            : java.time.Instant.ofEpochMilli(op.getFinishedAtMillis()).toString());
        v.put("message", op.getMessage().isEmpty() ? null : op.getMessage());
        out.add(v);
      }
      List<Map<String, Object>> direct = new ArrayList<>();
      List<String> unanswered = new ArrayList<>();
      Set<String> removed = new HashSet<>();
      state.getNodesList().stream().filter(n -> "REMOVED".equals(n.getState())).forEach(n -> removed.add(n.getNode()));
      perNode.forEach((id, views) -> {
        List<Map<String, Object>> v = views.join();
        if (v != null) {
          direct.addAll(v);
        } else if (!removed.contains(id)) {
          unanswered.add(id); // a decommissioned node may well be turned off
        }
      });
      // Running ones first, then the rest, newest first.
      direct.sort(Comparator.comparing((Map<String, Object> v) -> !"running".equals(v.get("status")))
          .thenComparing(v -> startedAt(v.get("started_at")), Comparator.reverseOrder()));
      out.addAll(direct);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("operations", out);
      body.put("nodes_not_answering", unanswered);
      if (pdError.get() != null) {
        body.put("placement_driver_unavailable", pdError.get());
      }
      return Response.ok(body).build();
    });
  }

  private static Instant startedAt(Object text) {
    try {
      return text instanceof String t ? Instant.parse(t) : Instant.EPOCH;
    } catch (DateTimeParseException e) {
      return Instant.EPOCH;
    }
  }

  /** Moves every replica off the node (the placement driver does it), then marks it removed. */
  @POST
  @Path("nodes/{id}/decommission")
  @Consumes(MediaType.WILDCARD)
  public CompletionStage<Response> decommission(@PathParam("id") String node) {
    if (!host.nodes().containsKey(node)) {
      throw new FlotillaException(ErrorCode.NOT_FOUND, "there is no node " + node);
    }
    CompletableFuture<String> work = pd.state().thenCompose(state -> {
      Map<String, String> declared = new java.util.HashMap<>();
      state.getNodesList().forEach(n -> declared.put(n.getNode(), n.getState()));
      String current = declared.getOrDefault(node, "UP");
      if ("REMOVED".equals(current)) {
        throw new FlotillaException(ErrorCode.UNPROCESSABLE, "node " + node + " is decommissioned already");
      }
      if ("DECOMMISSIONING".equals(current)) {
        return CompletableFuture.completedFuture(current);
      }
      long remaining = host.nodes().keySet().stream()
          .filter(id -> !id.equals(node) && "UP".equals(declared.getOrDefault(id, "UP"))).count();
      if (remaining < replication) {
        throw new FlotillaException(ErrorCode.UNPROCESSABLE, "decommissioning " + node + " would leave " + remaining
            + " nodes for " + replication + " replicas per range");
      }
      return pd.propose(io.flotilla.proto.PdCommand.newBuilder().setNodeState(io.flotilla.proto.NodeStateChange
          .newBuilder().setNode(node).setState("DECOMMISSIONING")).build()).thenApply(x -> "DECOMMISSIONING");
    });
    return async.respond("admin_decommission", true, work, state -> Response.status(202).entity(Map.of(
        "operation", "decommission-" + node, "node", node, "state", state.toLowerCase(java.util.Locale.ROOT)))
        .build());
  }

  /**
   * API.md: 200 with the result when the operation finished, 202 with its id when it goes on
   * in the background (past half the request timeout; {@code GET /v1/admin/operations} then
   * shows how it ends). A failure before then is the request's error.
   */
  private <T> CompletionStage<Response> respondOrAccept(String name, OperationLog.Tracked<T> op) {
    Object accepted = new Object();
    CompletableFuture<Object> first = op.outcome().<Object>thenApply(v -> v).applyToEither(
        CompletableFuture.supplyAsync(() -> accepted, CompletableFuture.delayedExecutor(acceptAfterMillis, java.util.concurrent.TimeUnit.MILLISECONDS, io.flotilla.client.Completions.EXECUTOR)), v -> v);
    return async.respond(name, true, first, v -> {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("operation", op.operation().id());
      if (v == accepted) {
        body.put("status", "running");
        return Response.status(202).entity(body).build();
      }
      body.putAll(op.operation().result());
      return Response.ok(body).build();
    });
  }

  private JsonNode parseBody(InputStream body) {
    try {
      byte[] bytes = body == null ? new byte[0] : body.readAllBytes();
      if (bytes.length == 0) {
        return json.createObjectNode();
      }
      JsonNode node = json.readTree(bytes);
      if (node == null || !node.isObject()) {
        throw Params.invalid("the body must be a JSON object");
      }
      return node;
    } catch (java.io.IOException e) {
      throw Params.invalid("the body is not valid JSON: " + e.getMessage());
    }
  }

  private static long idField(JsonNode req, String field) {
    JsonNode n = req.get(field);
    if (n == null || !n.canConvertToExactIntegral() || n.asLong() <= 0) {
      throw Params.invalid("\"" + field + "\" must be a range id (a positive integer)");
    }
    return n.asLong();
  }

  private static long rangeId(String id) {
    try {
      return Long.parseLong(id);
    } catch (NumberFormatException e) {
      throw Params.invalid("range id must be a number (got '" + id + "')");
    }
  }

  private CompletableFuture<Map<String, Object>> replicaView(RangeDescriptor r, String node, Query status,
      boolean checksum) {
    return replicas.query(node, status).handle((res, error) -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("node", node);
      if (error != null || res == null || !res.hasStatus()) {
        m.put("state", "unreachable");
        m.put("error", error == null ? "no status" : KeyService.unwrap(error).getMessage());
        return m;
      }
      m.put("state", "up");
      m.put("applied_revision", res.getStatus().getState().getRevision());
      m.put("applied_index", res.getStatus().getState().getAppliedIndex());
      m.put("key_count", res.getStatus().getApproximateKeys());
      m.put("intents", res.getStatus().getIntents());
      if (checksum) {
        m.put("checksum", Long.toHexString(res.getStatus().getChecksum()));
      }
      return m;
    });
  }
}
