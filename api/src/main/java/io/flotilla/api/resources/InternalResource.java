package io.flotilla.api.resources;

import io.flotilla.api.service.NodeStats;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
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

/** Node-to-node endpoints: range snapshots for catching-up replicas, and node stats. Not public API. */
@Path("/internal/v1")
public class InternalResource {
  private final NodeHost host;
  private final NodeStats stats;

  public InternalResource(NodeHost host, NodeStats stats) {
    this.host = host;
    this.stats = stats;
  }

  @GET
  @Path("ranges/{id}/snapshot")
  @Produces(MediaType.APPLICATION_OCTET_STREAM)
  public Response snapshot(@PathParam("id") long rangeId) {
    if (host.replica(rangeId).isEmpty()) {
      throw new FlotillaException(ErrorCode.NOT_FOUND, "node " + host.self().id() + " holds no replica of range " + rangeId);
    }
    StreamingOutput body = out -> RangeSnapshots.write(host.engine(), rangeId, out);
    return Response.ok(body).build();
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

  @GET
  @Path("stats")
  @Produces(MediaType.APPLICATION_JSON)
  public Map<String, Object> stats() {
    return stats.snapshot();
  }
}
