package io.flotilla.statemachine;

import io.flotilla.common.Keys;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/** A real, in-memory {@link KvEngine} for unit tests: sorted maps, atomic writes, copy-on-snapshot. */
public final class InMemoryKvEngine implements KvEngine {
  private final Map<ColumnFamily, TreeMap<byte[], byte[]>> families = new EnumMap<>(ColumnFamily.class);

  public InMemoryKvEngine() {
    for (ColumnFamily cf : ColumnFamily.values()) {
      families.put(cf, new TreeMap<>(Keys.ORDER));
    }
  }

  @Override
  public synchronized byte[] get(ColumnFamily cf, byte[] key) {
    return families.get(cf).get(key);
  }

  @Override
  public synchronized KvIterator iterate(ColumnFamily cf, byte[] start, byte[] end, boolean reverse) {
    return iterator(families.get(cf), start, end, reverse);
  }

  @Override
  public synchronized void write(Mutations mutations) {
    for (Mutations.Op op : mutations.ops()) {
      TreeMap<byte[], byte[]> map = families.get(op.cf());
      switch (op.kind()) {
        case PUT -> map.put(op.key(), op.value());
        case DELETE -> map.remove(op.key());
        case DELETE_SPAN -> span(map, op.key(), op.value()).clear();
      }
    }
  }

  @Override
  public synchronized Snapshot snapshot() {
    Map<ColumnFamily, TreeMap<byte[], byte[]>> copy = new EnumMap<>(ColumnFamily.class);
    families.forEach((cf, map) -> copy.put(cf, new TreeMap<>(map)));
    return new Snapshot() {
      @Override
      public byte[] get(ColumnFamily cf, byte[] key) {
        return copy.get(cf).get(key);
      }

      @Override
      public KvIterator iterate(ColumnFamily cf, byte[] start, byte[] end, boolean reverse) {
        return iterator(copy.get(cf), start, end, reverse);
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void sync() {}

  @Override
  public synchronized long approximateSize(byte[] start, byte[] end) {
    long size = 0;
    for (Map.Entry<byte[], byte[]> e : span(families.get(ColumnFamily.DATA), start, end).entrySet()) {
      size += e.getKey().length + e.getValue().length;
    }
    return size;
  }

  @Override
  public synchronized long estimatedKeys() {
    return families.get(ColumnFamily.DATA).size();
  }

  @Override
  public long totalBytes() {
    return approximateSize(new byte[0], new byte[0]);
  }

  @Override
  public void close() {}

  private static NavigableMap<byte[], byte[]> span(TreeMap<byte[], byte[]> map, byte[] start, byte[] end) {
    if (end.length == 0) {
      return map.tailMap(start, true);
    }
    // An inverted or empty span holds nothing (as in RocksDB), rather than being an error.
    return Keys.compare(start, end) >= 0 ? new TreeMap<>(Keys.ORDER) : map.subMap(start, true, end, false);
  }

  /** Iterates a copy of the span, so writes during iteration never disturb it. */
  private static KvIterator iterator(TreeMap<byte[], byte[]> map, byte[] start, byte[] end, boolean reverse) {
    NavigableMap<byte[], byte[]> view = span(map, start, end);
    List<Map.Entry<byte[], byte[]>> entries = new ArrayList<>((reverse ? view.descendingMap() : view).entrySet());
    Iterator<Map.Entry<byte[], byte[]>> it = entries.iterator();
    return new KvIterator() {
      private Map.Entry<byte[], byte[]> current = it.hasNext() ? it.next() : null;

      @Override
      public boolean valid() {
        return current != null;
      }

      @Override
      public byte[] key() {
        return current.getKey();
      }

      @Override
      public byte[] value() {
        return current.getValue();
      }

      @Override
      public void next() {
        current = it.hasNext() ? it.next() : null;
      }

      @Override
      public void close() {}
    };
  }
}
