package io.flotilla.statemachine;

/**
 * The node's storage: one instance per node, shared by every range it hosts.
 *
 * <p>Invariant: {@link #write} is atomic across column families, so a range's mutations and
 * its applied index land together or not at all.
 */
public interface KvEngine extends KvReader, AutoCloseable {
  void write(Mutations mutations);

  /**
   * A write too large to hold as one {@link Mutations} on the heap (a whole range's snapshot):
   * parts are added as they arrive and applied together, atomically, by {@link Batch#commit}.
   * This default keeps the parts on the heap; an engine may stage them elsewhere.
   */
  default Batch newBatch() {
    Mutations all = new Mutations();
    return new Batch() {
      @Override
      public void add(Mutations part) {
        all.addAll(part);
      }

      @Override
      public void commit() {
        write(all);
      }

      @Override
      public void close() {}
    };
  }

  /** An atomic write assembled in parts; closing without commit discards it. */
  interface Batch extends AutoCloseable {
    void add(Mutations part);

    void commit();

    @Override
    void close();
  }

  /** A consistent point-in-time view; close it when done. */
  Snapshot snapshot();

  /** Makes every write so far durable (fsync of the engine's own log, if any). */
  void sync();

  /** Approximate on-disk bytes of [start, end) in the data column family. */
  long approximateSize(byte[] start, byte[] end);

  /** Estimated number of keys in the data column family of the whole node. */
  long estimatedKeys();

  /** Approximate bytes of all live data files of the node. */
  long totalBytes();

  @Override
  void close();

  /** A point-in-time reader. */
  interface Snapshot extends KvReader, AutoCloseable {
    @Override
    void close();
  }
}
