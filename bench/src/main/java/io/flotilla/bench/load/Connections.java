package io.flotilla.bench.load;

import java.time.Duration;
import java.util.List;

/**
 * One client's connections: one persistent connection per node, used in turn, so the requests
 * of every client are spread evenly over the nodes. Client i starts at node {@code i mod n}.
 * Owned by one thread.
 */
public final class Connections implements AutoCloseable {
  private final HttpConnection[] connections;
  private int next;

  public Connections(List<Endpoint> endpoints, int client, Duration timeout) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("no nodes to send requests to");
    }
    connections = new HttpConnection[endpoints.size()];
    for (int i = 0; i < connections.length; i++) {
      connections[i] = new HttpConnection(endpoints.get(i), timeout);
    }
    next = client % connections.length;
  }

  /** The connection to the next node in turn. */
  public HttpConnection next() {
    HttpConnection c = connections[next];
    next = (next + 1) % connections.length;
    return c;
  }

  @Override
  public void close() {
    for (HttpConnection c : connections) {
      c.close();
    }
  }
}
