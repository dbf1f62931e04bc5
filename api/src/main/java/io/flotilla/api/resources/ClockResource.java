package io.flotilla.api.resources;

import io.flotilla.api.service.SkewableClock;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;

/** Test-only (see NodeConfig.clockSkewForTests): reads and sets the node's wall-clock offset. */
@Path("/internal/v1/clock")
@Produces(MediaType.APPLICATION_JSON)
public class ClockResource {
  private final SkewableClock clock;

  public ClockResource(SkewableClock clock) {
    this.clock = clock;
  }

  @GET
  public Map<String, Object> get() {
    return Map.of("offset_ms", clock.offsetMillis(), "now_ms", clock.millis());
  }

  @PUT
  public Map<String, Object> set(@QueryParam("offset_ms") String offset) {
    try {
      clock.setOffsetMillis(Long.parseLong(offset));
    } catch (NumberFormatException | NullPointerException e) {
      throw Params.invalid("offset_ms must be an integer number of milliseconds");
    }
    return get();
  }
}
