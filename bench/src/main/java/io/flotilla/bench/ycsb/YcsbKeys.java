package io.flotilla.bench.ycsb;

/**
 * Where a YCSB record lives: key {@code <table>/<record key>}. A table's records are then one
 * contiguous span of Flotilla's ordered key space, ending before {@code <table>0} ('0' is the
 * character after '/'), so a scan never runs into another table.
 */
final class YcsbKeys {
  private YcsbKeys() {}

  static String of(String table, String key) {
    return table + "/" + key;
  }

  /** The exclusive end of the table's span. */
  static String tableEnd(String table) {
    return table + "0";
  }
}
