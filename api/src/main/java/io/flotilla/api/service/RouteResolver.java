package io.flotilla.api.service;

import io.flotilla.client.RoutingTable;
import io.flotilla.proto.RangeDescriptor;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Fills gaps in this node's routing table from its peers' tables: a node that hosts no replica
 * of a range learns of its splits, merges and moves only this way (until the placement driver
 * serves routing). One refresh at a time; callers arriving meanwhile share it.
 */
public final class RouteResolver {
  private final RoutingTable routing;
  private final Peers peers;
  private final java.util.function.Supplier<List<String>> others;
  private final AtomicReference<CompletableFuture<Void>> inFlight = new AtomicReference<>();

  /** {@code otherNodes}: every other member as currently known (they grow when nodes join). */
  public RouteResolver(RoutingTable routing, Peers peers, java.util.function.Supplier<List<String>> otherNodes) {
    this.routing = routing;
    this.peers = peers;
    this.others = otherNodes;
  }

  /** Asks every other node for its descriptors and keeps the newest of each; never fails. */
  public CompletableFuture<Void> refresh() {
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> running = inFlight.compareAndExchange(null, mine);
    if (running != null) {
      return running;
    }
    List<CompletableFuture<Void>> asks = others.get().stream().map(node -> peers.ranges(node)
        .thenAccept(list -> list.forEach(this::learn)).exceptionally(e -> null)).toList();
    CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).whenComplete((x, e) -> {
      inFlight.set(null);
      mine.complete(null);
    });
    return mine;
  }

  private void learn(RangeDescriptor range) {
    routing.update(range);
  }
}
