package io.flotilla.pd;

/** One node in a {@link ClusterView}. */
public record NodeView(String id, NodeState state) {
  public NodeView {
    if (id == null || id.isEmpty()) {
      throw new IllegalArgumentException("a node needs an id");
    }
  }
}
