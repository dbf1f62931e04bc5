package io.flotilla.statemachine;

/**
 * The node's storage: one instance per node, shared by every range it hosts.
 *
 * <p>Invariant: {@link #write} is atomic across column families, so a range's mutations and
 * its applied index land together or not at all.
 */
public interface KvEngine extends KvReader, AutoCloseable {
  void write(Mutations mutations);

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
