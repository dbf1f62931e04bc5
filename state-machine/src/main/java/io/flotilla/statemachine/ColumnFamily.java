package io.flotilla.statemachine;

/** The column families of a node's RocksDB. */
public enum ColumnFamily {
  /** User keys; ranges own disjoint spans of it, so a split moves no data. */
  DATA("data"),
  /** Range descriptors and per-range applied state, keyed by {@link MetaKeys}. */
  META("meta"),
  /**
   * Transaction intents ({@code Intent}), keyed by the locked user key: like DATA, ranges own
   * disjoint spans of it, so intents travel with their keys through snapshots and splits.
   */
  LOCKS("locks");

  private final String dbName;

  ColumnFamily(String dbName) {
    this.dbName = dbName;
  }

  public String dbName() {
    return dbName;
  }
}
