package io.flotilla.statemachine;

/** Read access to an engine or to a consistent snapshot of it. */
public interface KvReader {
  /**
   * The value, or null when absent. The engine never changes the array afterwards, and callers
   * do not change it either (readers may hand out views of it).
   */
  byte[] get(ColumnFamily cf, byte[] key);

  /**
   * Iterates [start, end) (empty end = to the end of the column family) in key order, or in
   * reverse order when {@code reverse}.
   */
  KvIterator iterate(ColumnFamily cf, byte[] start, byte[] end, boolean reverse);
}
