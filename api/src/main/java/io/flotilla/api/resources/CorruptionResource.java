package io.flotilla.api.resources;

import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.KvEngine;
import io.flotilla.statemachine.Mutations;
import io.flotilla.statemachine.StoredValue;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;

/**
 * Test-only (failpoint {@code corrupt-local-replica-for-tests}): writes a value straight into
 * this node's storage, past the Raft log, so that this node's replica of the key's range
 * diverges from the others; consistency checks must then report it.
 */
@Path("/internal/v1/test/corrupt")
public class CorruptionResource {
  private final KvEngine engine;

  public CorruptionResource(KvEngine engine) {
    this.engine = engine;
  }

  @PUT
  @Path("{key: .+}")
  @Consumes(MediaType.WILDCARD)
  public Response corrupt(@PathParam("key") String key, byte[] value) {
    engine.write(new Mutations().put(ColumnFamily.DATA, key.getBytes(StandardCharsets.UTF_8),
        new StoredValue(1, 0, value).encode()));
    return Response.noContent().build();
  }
}
