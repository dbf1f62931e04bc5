package io.flotilla.bench.load;

/** The operations of the generator, as YCSB's core workload names them. */
public enum OpKind {
  /** Read one existing key. */
  READ,
  /** Overwrite one existing key. */
  UPDATE,
  /** Write a new key (the next number of the key space). */
  INSERT,
  /** Read a short run of keys in key order, from an existing key on. */
  SCAN,
  /** Read one key, then write it: one operation, timed from the read's start to the write's end. */
  READ_MODIFY_WRITE
}
