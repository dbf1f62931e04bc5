package io.flotilla.api.resources;

import com.codahale.metrics.MetricRegistry;
import io.flotilla.api.service.RangeMetrics;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.raft.NodeHost;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** Liveness, readiness and Prometheus metrics for load balancers and scrapers. */
@Path("/")
public class OpsResource {
  private final NodeHost host;
  private final BooleanSupplier started;
  private final MetricRegistry metrics;
  private final RangeMetrics ranges;

  public OpsResource(NodeHost host, BooleanSupplier started, MetricRegistry metrics, RangeMetrics ranges) {
    this.host = host;
    this.started = started;
    this.metrics = metrics;
    this.ranges = ranges;
  }

  @GET
  @Path("healthz")
  @Produces(MediaType.APPLICATION_JSON)
  public Map<String, Object> healthz() {
    return Map.of("status", "ok", "node", host.self().id());
  }

  /** Ready once the node has started and every range it hosts has a leader. */
  @GET
  @Path("readyz")
  @Produces(MediaType.APPLICATION_JSON)
  public Response readyz() {
    if (!started.getAsBoolean()) {
      return ErrorBodies.of(new FlotillaException(ErrorCode.UNAVAILABLE, "node " + host.self().id() + " is starting"));
    }
    java.util.List<Long> leaderless = host.rangesWithoutLeader();
    if (!leaderless.isEmpty()) {
      return ErrorBodies.of(new FlotillaException(ErrorCode.UNAVAILABLE,
          "node " + host.self().id() + " hosts ranges with no known leader yet: " + leaderless));
    }
    return Response.ok(Map.of("status", "ready", "node", host.self().id())).build();
  }

  @GET
  @Path("metrics")
  @Produces("text/plain; version=0.0.4; charset=utf-8")
  public String metrics() {
    StringBuilder page = PrometheusText.render(metrics);
    ranges.render(page, host);
    return page.toString();
  }
}
