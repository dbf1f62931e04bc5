package io.flotilla.statemachine;

import com.google.protobuf.ByteString;
import io.flotilla.common.Keys;
import io.flotilla.common.Ranges;
import io.flotilla.proto.GetResult;
import io.flotilla.proto.KeyValue;
import io.flotilla.proto.MultiGetResult;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.Rejection;
import io.flotilla.proto.ScanQuery;
import io.flotilla.proto.ScanResult;
import io.flotilla.proto.ScannedSpan;

/**
 * Evaluates read queries against one range: a pure function of (query, range, data).
 * Expired keys are invisible, judged by the reader's clock carried in the query.
 */
public final class RangeQueries {
  private RangeQueries() {}

  /** Evaluates get, multi-get and scan queries; status queries are answered by the host. */
  public static QueryResult evaluate(Query query, RangeDescriptor range, long revision, KvReader reader) {
    QueryResult.Builder result = QueryResult.newBuilder().setRevision(revision);
    Rejection routing = checkRouting(query, range);
    if (routing != null) {
      return result.setRejected(routing).build();
    }
    long now = query.getNowMillis();
    switch (query.getKindCase()) {
      case GET -> result.setGet(get(reader, query.getGet().getKey(), now, !query.getGet().getKeysOnly()));
      case MULTI_GET -> {
        MultiGetResult.Builder mg = MultiGetResult.newBuilder();
        long budget = query.getMultiGet().getMaxResultBytes();
        long answered = 0;
        for (ByteString k : query.getMultiGet().getKeysList()) {
          if (budget > 0 && answered >= budget) {
            break; // the keys left over are the asker's to ask again
          }
          GetResult g = get(reader, k, now, true);
          answered += g.getSerializedSize(); // the value, and a lock's staged value and keys too
          mg.addResults(g);
        }
        result.setMultiGet(mg);
      }
      case SCAN -> result.setScan(scan(reader, range, query.getScan(), now));
      default -> result.setRejected(Rejection.newBuilder().setReason(Rejection.Reason.INVALID)
          .setMessage("unsupported query " + query.getKindCase()));
    }
    return result.build();
  }

  private static Rejection checkRouting(Query query, RangeDescriptor range) {
    if (query.getRangeId() != range.getId()
        || (query.hasEpoch() && query.getEpoch().getVersion() != range.getEpoch().getVersion())) {
      return Rejection.newBuilder().setReason(Rejection.Reason.EPOCH_MISMATCH)
          .setMessage("query for range " + query.getRangeId() + " epoch " + Ranges.epochString(query.getEpoch())
              + " reached " + Ranges.describe(range))
          .setCurrent(range).build();
    }
    boolean inRange = switch (query.getKindCase()) {
      case GET -> Ranges.contains(range, query.getGet().getKey().toByteArray());
      case MULTI_GET -> query.getMultiGet().getKeysList().stream()
          .allMatch(k -> Ranges.contains(range, k.toByteArray()));
      case SCAN -> Ranges.overlaps(range, query.getScan().getStart().toByteArray(),
          query.getScan().getEnd().toByteArray());
      default -> true;
    };
    return inRange ? null : Rejection.newBuilder().setReason(Rejection.Reason.KEY_OUT_OF_RANGE)
        .setMessage("query is outside " + Ranges.describe(range)).setCurrent(range).build();
  }

  /** The key's committed state, plus the intent on it if a transaction holds one. */
  private static GetResult get(KvReader reader, ByteString key, long now, boolean withValue) {
    GetResult.Builder out = GetResult.newBuilder().setFound(false);
    byte[] lock = reader.get(ColumnFamily.LOCKS, key.toByteArray());
    if (lock != null) {
      out.setLock(Intents.decode(lock));
    }
    byte[] stored = reader.get(ColumnFamily.DATA, key.toByteArray());
    if (stored == null) {
      return out.build();
    }
    long expiresAt = StoredValue.peekExpiresAt(stored);
    if (StoredValue.expired(expiresAt, now)) {
      return out.build();
    }
    KeyValue.Builder kv = KeyValue.newBuilder().setKey(key).setVersion(StoredValue.peekVersion(stored))
        .setExpiresAtMillis(expiresAt);
    if (withValue) {
      kv.setValue(StoredValue.valueOf(stored));
    }
    return out.setFound(true).setKv(kv).build();
  }

  private static ScanResult scan(KvReader reader, RangeDescriptor range, ScanQuery scan, long now) {
    byte[] start = Keys.maxStart(scan.getStart().toByteArray(), range.getStart().toByteArray());
    byte[] end = Keys.minEnd(scan.getEnd().toByteArray(), range.getEnd().toByteArray());
    int limit = Math.max(1, scan.getLimit());
    ScanResult.Builder out = ScanResult.newBuilder().setScanned(
        ScannedSpan.newBuilder().setStart(ByteString.copyFrom(start)).setEnd(ByteString.copyFrom(end)));
    try (KvIterator it = reader.iterate(ColumnFamily.DATA, start, end, scan.getReverse())) {
      for (; it.valid(); it.next()) {
        byte[] stored = it.value();
        long expiresAt = StoredValue.peekExpiresAt(stored);
        if (StoredValue.expired(expiresAt, now)) {
          continue;
        }
        if (out.getItemsCount() == limit) {
          out.setMore(true); // a further live key exists in this range
          break;
        }
        KeyValue.Builder kv = KeyValue.newBuilder().setKey(ByteString.copyFrom(it.key()))
            .setVersion(StoredValue.peekVersion(stored)).setExpiresAtMillis(expiresAt);
        if (!scan.getKeysOnly()) {
          kv.setValue(StoredValue.valueOf(stored));
        }
        out.addItems(kv);
      }
    }
    addWriteIntents(reader, out, start, end, scan.getReverse());
    return out.build();
  }

  /**
   * Adds the write intents on the part of [start, end) this page covered: a reader must learn
   * whether their transactions committed before trusting the page.
   */
  private static void addWriteIntents(KvReader reader, ScanResult.Builder page, byte[] start, byte[] end,
      boolean reverse) {
    if (page.getMore() && page.getItemsCount() > 0) {
      byte[] last = page.getItems(page.getItemsCount() - 1).getKey().toByteArray();
      if (reverse) {
        start = last;
      } else {
        end = java.util.Arrays.copyOf(last, last.length + 1);
      }
    }
    try (KvIterator it = reader.iterate(ColumnFamily.LOCKS, start, end, false)) {
      for (; it.valid(); it.next()) {
        io.flotilla.proto.Intent intent = Intents.decode(it.value());
        if (intent.getWrite()) {
          page.addLocks(intent);
        }
      }
    }
  }

  /** Counts the stored keys of a range (expired ones included until they are removed). */
  public static long countKeys(KvReader reader, RangeDescriptor range) {
    return count(reader, ColumnFamily.DATA, range);
  }

  /** Counts the transaction intents (locked keys) of a range. */
  public static long countIntents(KvReader reader, RangeDescriptor range) {
    return count(reader, ColumnFamily.LOCKS, range);
  }

  /**
   * The key in the middle of the range's keys (by count), where a split leaves half the keys
   * on each side; empty when the range has fewer than two keys.
   */
  public static java.util.Optional<byte[]> middleKey(KvReader reader, RangeDescriptor range) {
    long n = countKeys(reader, range);
    if (n < 2) {
      return java.util.Optional.empty();
    }
    long skip = n / 2;
    try (KvIterator it = reader.iterate(ColumnFamily.DATA, range.getStart().toByteArray(),
        range.getEnd().toByteArray(), false)) {
      for (long i = 0; i < skip && it.valid(); i++) {
        it.next();
      }
      return it.valid() ? java.util.Optional.of(it.key()) : java.util.Optional.empty();
    }
  }

  private static long count(KvReader reader, ColumnFamily cf, RangeDescriptor range) {
    long n = 0;
    try (KvIterator it = reader.iterate(cf, range.getStart().toByteArray(),
        range.getEnd().toByteArray(), false)) {
      for (; it.valid(); it.next()) {
        n++;
      }
    }
    return n;
  }
}
