package io.flotilla.statemachine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** An ordered list of writes that an engine applies atomically. */
public final class Mutations {
  /** One write. For {@code DELETE_SPAN}, {@code value} holds the exclusive end key. */
  public record Op(Kind kind, ColumnFamily cf, byte[] key, byte[] value) {}

  public enum Kind { PUT, DELETE, DELETE_SPAN }

  private final List<Op> ops = new ArrayList<>();

  public Mutations put(ColumnFamily cf, byte[] key, byte[] value) {
    ops.add(new Op(Kind.PUT, cf, key, value));
    return this;
  }

  public Mutations delete(ColumnFamily cf, byte[] key) {
    ops.add(new Op(Kind.DELETE, cf, key, null));
    return this;
  }

  /** Deletes [start, end); end must be non-empty. */
  public Mutations deleteSpan(ColumnFamily cf, byte[] start, byte[] end) {
    ops.add(new Op(Kind.DELETE_SPAN, cf, start, end));
    return this;
  }

  public Mutations addAll(Mutations other) {
    ops.addAll(other.ops);
    return this;
  }

  public List<Op> ops() {
    return Collections.unmodifiableList(ops);
  }

  public boolean isEmpty() {
    return ops.isEmpty();
  }

  public int size() {
    return ops.size();
  }
}
