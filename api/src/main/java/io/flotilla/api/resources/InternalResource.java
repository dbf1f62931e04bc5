package io.flotilla.api.resources;

import io.flotilla.api.service.NodeStats;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.pd.PdStateMachine;
import io.flotilla.raft.NodeHost;
import io.flotilla.statemachine.RangeSnapshots;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Node-to-node endpoints: heartbeats and joins, range snapshots for catching-up replicas, node
 * stats and operations. Not public API.
 */
@Path("/internal/v1")
public class InternalResource {
  private final NodeHost host;
  private final NodeStats stats;
  private final io.flotilla.api.service.PlacementController placement;
  private final io.flotilla.api.service.PdClient pd;
  private final int replication;
  private final io.flotilla.api.service.OperationLog log;
  private final Supplier<PdStateMachine> localPd;

  public InternalResource(NodeHost host, NodeStats stats, io.flotilla.api.service.PlacementController placement,
      io.flotilla.api.service.PdClient pd, Supplier<PdStateMachine> localPd, int replication,
      io.flotilla.api.service.OperationLog log) {
    this.host = host;
    this.localPd = localPd;
    this.log = log;
    this.stats = stats;
    this.placement = placement;
    this.pd = pd;
    this.replication = replication;
  }

  /** A node's heartbeat to this placement driver member; the reply lists replicas to drop. */
  @jakarta.ws.rs.POST
  @Path("pd/heartbeat")
  @jakarta.ws.rs.Consumes("application/x-protobuf")
  @Produces("application/x-protobuf")
  public Response heartbeat(byte[] body) throws java.io.IOException {
    return Response.ok(placement.receive(io.flotilla.proto.NodeHeartbeat.parseFrom(body)).toByteArray()).build();
  }

  /**
   * A new node asks to join: recorded in the placement driver's log (refused when its id or an
   * address is taken by another member), then answered with every member.
   */
  @jakarta.ws.rs.POST
  @Path("join")
  @jakarta.ws.rs.Consumes("application/x-protobuf")
  @Produces("application/x-protobuf")
  public java.util.concurrent.CompletionStage<Response> join(byte[] body) throws java.io.IOException {
    io.flotilla.proto.NodeAddress node = io.flotilla.proto.NodeAddress.parseFrom(body);
    if (!node.getId().matches("[A-Za-z0-9_.-]{1,64}") || !node.getHttp().matches("https?://[^/]+")
        || !node.getRaft().matches("[^:/]+:[0-9]{1,5}")) {
      throw new FlotillaException(ErrorCode.INVALID_ARGUMENT, "a joining node needs an id of letters, digits, "
          + "'_', '.' or '-', an http URL and a raft host:port; got " + node.toString().replace('\n', ' '));
    }
    return pd.join(node).handle((refusal, error) -> {
      if (error != null) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
            ? error.getCause() : error;
        return ErrorBodies.of(cause instanceof FlotillaException f ? f
            : FlotillaException.outcomeUnknown("the join", cause));
      }
      if (refusal != null) {
        return ErrorBodies.of(new FlotillaException(ErrorCode.UNPROCESSABLE, refusal));
      }
      io.flotilla.proto.JoinReply.Builder reply = io.flotilla.proto.JoinReply.newBuilder().setReplication(replication)
          .setFounders(host.founders()).setPlacementDriver(pd.committedHere().orElse(pd.known()));
      host.nodes().values().forEach(n -> reply.addMembers(io.flotilla.api.service.ClusterJoin.address(n)));
      if (!host.nodes().containsKey(node.getId())) {
        reply.addMembers(node); // this node has not applied the join yet
      }
      return Response.ok(reply.build().toByteArray()).build();
    });
  }

  @GET
  @Path("ranges/{id}/snapshot")
  @Produces(MediaType.APPLICATION_OCTET_STREAM)
  public Response snapshot(@PathParam("id") long rangeId) throws java.io.IOException {
    io.flotilla.raft.RangeStateMachine replica = host.replica(rangeId).orElseThrow(() -> new FlotillaException(
        ErrorCode.NOT_FOUND, "node " + host.self().id() + " holds no replica of range " + rangeId));
    if (replica.incomplete()) {
      throw new FlotillaException(ErrorCode.UNAVAILABLE, "the replica of range " + rangeId + " on "
          + host.self().id() + " lacks data merged in while it was copied; copy the range from another replica");
    }
    replica.recordApplied();
    StreamingOutput body = out -> RangeSnapshots.write(host.engine(), rangeId, out);
    return Response.ok(body).build();
  }

  /**
   * This node's placement driver replica's state at its last applied entry, for a member that
   * fell behind the leader's log (404 when the node hosts no member).
   */
  @GET
  @Path("placement-driver/snapshot")
  @Produces(MediaType.APPLICATION_OCTET_STREAM)
  public Response placementDriverSnapshot() {
    PdStateMachine machine = localPd.get();
    if (machine == null || !pd.hostsMember()) {
      throw new FlotillaException(ErrorCode.NOT_FOUND, "node " + host.self().id() + " hosts no placement driver member");
    }
    return Response.ok(machine.snapshot().toByteArray()).build();
  }

  /** A query answered from this node's replica alone (stale reads, per-replica status). */
  @jakarta.ws.rs.POST
  @Path("ranges/{id}/query")
  @jakarta.ws.rs.Consumes("application/x-protobuf")
  @Produces("application/x-protobuf")
  public Response query(@PathParam("id") long rangeId, byte[] body) throws java.io.IOException {
    io.flotilla.proto.Query query = io.flotilla.proto.Query.parseFrom(body);
    if (query.getRangeId() != rangeId) {
      throw new FlotillaException(ErrorCode.INVALID_ARGUMENT, "query is for range " + query.getRangeId());
    }
    io.flotilla.raft.RangeStateMachine replica = host.replica(rangeId).orElseThrow(() ->
        new FlotillaException(ErrorCode.NOT_FOUND, "node " + host.self().id() + " holds no replica of range " + rangeId));
    return Response.ok(replica.queryLocal(query).toByteArray()).build();
  }

  /**
   * Makes this node a new replica of a range (a move's first step): copies the range from
   * {@code source} and joins its group. The body is the range's descriptor with its replicas
   * as they will be once this node is added.
   * Blocking: it streams the whole range, so it runs on a request thread of its own.
   */
  @jakarta.ws.rs.POST
  @Path("ranges/{id}/replica")
  @jakarta.ws.rs.Consumes("application/x-protobuf")
  public Response seed(@PathParam("id") long rangeId, @jakarta.ws.rs.QueryParam("source") String source, byte[] body)
      throws java.io.IOException {
    io.flotilla.proto.RangeDescriptor range = io.flotilla.proto.RangeDescriptor.parseFrom(body);
    if (source == null || !host.nodes().containsKey(source) || range.getId() != rangeId) {
      throw new FlotillaException(ErrorCode.INVALID_ARGUMENT, "unknown source node " + source + " or wrong range");
    }
    try {
      host.seedReplica(range, range.getReplicasList(), source);
    } catch (IllegalStateException e) {
      throw new FlotillaException(ErrorCode.UNAVAILABLE, e.getMessage() + "; retry shortly");
    }
    return Response.ok().build();
  }

  /** Drops this node's replica of a range that moved away; the body is the range's descriptor now. */
  @jakarta.ws.rs.POST
  @Path("ranges/{id}/drop")
  @jakarta.ws.rs.Consumes("application/x-protobuf")
  public Response drop(@PathParam("id") long rangeId, byte[] body) throws java.io.IOException {
    io.flotilla.proto.RangeDescriptor current = io.flotilla.proto.RangeDescriptor.parseFrom(body);
    if (current.getId() != rangeId || current.getReplicasList().contains(host.self().id())) {
      throw new FlotillaException(ErrorCode.INVALID_ARGUMENT, "range " + rangeId + " still lists node "
          + host.self().id() + " as a replica; refusing to drop it");
    }
    try {
      host.removeReplica(rangeId, current);
    } catch (IllegalStateException newer) {
      throw new FlotillaException(ErrorCode.INVALID_ARGUMENT, newer.getMessage());
    }
    return Response.ok().build();
  }

  /** Every range descriptor this node knows: lets a peer that missed a split or move catch up. */
  @GET
  @Path("ranges")
  @Produces("application/x-protobuf")
  public Response ranges() {
    return Response.ok(io.flotilla.proto.RangeList.newBuilder().addAllRanges(host.routing().all()).build()
        .toByteArray()).build();
  }

  /** The admin operations this node accepted, for {@code GET /v1/admin/operations} on any node. */
  @GET
  @Path("operations")
  @Produces(MediaType.APPLICATION_JSON)
  public java.util.List<Map<String, Object>> operations() {
    return log.views();
  }

  @GET
  @Path("stats")
  @Produces(MediaType.APPLICATION_JSON)
  public Map<String, Object> stats() {
    return stats.snapshot();
  }
}
