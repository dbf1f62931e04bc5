package io.flotilla.statemachine;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.common.Keys;
import io.flotilla.common.Ranges;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeState;
import io.flotilla.proto.SnapshotEntry;
import io.flotilla.proto.SnapshotHeader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Range snapshots: a consistent copy of one range's key span, descriptor and applied state,
 * streamed from a healthy replica to one that is too far behind (or new).
 *
 * <p>Format: a length-delimited {@link SnapshotHeader}, then one length-delimited
 * {@link SnapshotEntry} per key, then a trailer entry with an empty key whose value is the
 * 8-byte entry count, so a truncated stream is always detected.
 *
 * <p>Invariant: {@link #install} replaces the span, the descriptor and the applied state in one
 * engine write, so a crash leaves either the old replica or the new one, never a mix.
 */
public final class RangeSnapshots {
  /** The column families whose keys are user keys, partitioned by range span. */
  private static final ColumnFamily[] SPAN_FAMILIES = {ColumnFamily.DATA, ColumnFamily.LOCKS};

  /** Entries handed to the engine's batch at a time while installing. */
  private static final long PART_BYTES = 4L << 20;

  private RangeSnapshots() {}

  /** Streams the range as of one engine snapshot; returns the header that was sent. */
  public static SnapshotHeader write(KvEngine engine, long rangeId, OutputStream target) throws IOException {
    // Entries are small: buffer them, or every one becomes a write down the HTTP stack.
    OutputStream out = new java.io.BufferedOutputStream(target, 256 * 1024);
    try (KvEngine.Snapshot snap = engine.snapshot()) {
      byte[] desc = snap.get(ColumnFamily.META, MetaKeys.descriptor(rangeId));
      byte[] state = snap.get(ColumnFamily.META, MetaKeys.state(rangeId));
      if (desc == null) {
        throw new IllegalArgumentException("this node holds no replica of range " + rangeId);
      }
      RangeDescriptor range = RangeDescriptor.parseFrom(desc);
      SnapshotHeader.Builder h = SnapshotHeader.newBuilder().setRange(range)
          .setState(state == null ? RangeState.getDefaultInstance() : RangeState.parseFrom(state));
      byte[] callOffs = RangeChanges.calledOffPrefix(rangeId);
      try (KvIterator it = snap.iterate(ColumnFamily.META, callOffs, Keys.prefixEnd(callOffs), false)) {
        for (; it.valid(); it.next()) {
          h.addMergeCallOffs(ByteString.copyFrom(it.key()));
        }
      }
      SnapshotHeader header = h.build();
      header.writeDelimitedTo(out);
      long count = 0;
      for (ColumnFamily cf : SPAN_FAMILIES) {
        try (KvIterator it = snap.iterate(cf, range.getStart().toByteArray(), range.getEnd().toByteArray(), false)) {
          for (; it.valid(); it.next()) {
            SnapshotEntry.newBuilder().setKey(ByteString.copyFrom(it.key())).setLock(cf == ColumnFamily.LOCKS)
                .setStoredValue(ByteString.copyFrom(it.value())).build().writeDelimitedTo(out);
            count++;
          }
        }
      }
      SnapshotEntry.newBuilder()
          .setStoredValue(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(count).array()))
          .build().writeDelimitedTo(out);
      out.flush();
      return header;
    }
  }

  /**
   * Reads a whole snapshot stream and installs it for {@code rangeId}, replacing both the span
   * the replica held before and the span of the snapshot. Returns the installed header.
   */
  public static SnapshotHeader install(KvEngine engine, long rangeId, InputStream source) throws IOException {
    return install(engine, rangeId, source, List.of());
  }

  /**
   * Installs a snapshot as {@link #install(KvEngine, long, InputStream)} does, but never clears
   * data inside {@code keep}: the spans of the node's other replicas. The descriptor stored for
   * the range before may be stale (a node keeps the first layout of ranges it never hosted, and
   * a replica may have missed a split), so its span can cover ranges this node now holds.
   */
  public static SnapshotHeader install(KvEngine engine, long rangeId, InputStream source, List<RangeDescriptor> keep)
      throws IOException {
    // Parsing reads a few bytes at a time: buffer, or each read goes down to the HTTP client.
    InputStream in = new java.io.BufferedInputStream(source, 256 * 1024);
    SnapshotHeader header = SnapshotHeader.parseDelimitedFrom(in);
    if (header == null || header.getRange().getId() != rangeId) {
      throw new IOException("snapshot stream is not for range " + rangeId);
    }
    RangeDescriptor range = header.getRange();
    try (KvEngine.Batch batch = engine.newBatch()) {
      installInto(batch, engine, rangeId, range, in, keep);
      Mutations meta = new Mutations();
      meta.put(ColumnFamily.META, MetaKeys.descriptor(rangeId), range.toByteArray());
      meta.put(ColumnFamily.META, MetaKeys.state(rangeId), header.getState().toByteArray());
      byte[] callOffs = RangeChanges.calledOffPrefix(rangeId);
      for (ByteString key : header.getMergeCallOffsList()) {
        if (!Keys.inSpan(key.toByteArray(), callOffs, Keys.prefixEnd(callOffs))) {
          throw new IOException("snapshot of range " + rangeId + " names a merge call-off of another range");
        }
        meta.put(ColumnFamily.META, key.toByteArray(), new byte[] {1});
      }
      batch.add(meta);
      batch.commit();
    }
    return header;
  }

  /**
   * Stages the replacement of the range's data in {@code batch}, handing entries over in parts
   * of about {@link #PART_BYTES}: the heap holds one part at a time, never the whole range.
   */
  private static void installInto(KvEngine.Batch batch, KvEngine engine, long rangeId, RangeDescriptor range,
      InputStream in, List<RangeDescriptor> keep) throws IOException {
    Mutations m = new Mutations();
    byte[] old = engine.get(ColumnFamily.META, MetaKeys.descriptor(rangeId));
    if (old != null) {
      clearSpanExcept(m, parseDescriptor(old), keep);
    }
    clearSpan(m, range);
    long count = 0;
    long partBytes = 0;
    while (true) {
      SnapshotEntry e = SnapshotEntry.parseDelimitedFrom(in);
      if (e == null) {
        throw new IOException("snapshot stream for range " + rangeId + " ended before its trailer");
      }
      if (e.getKey().isEmpty()) {
        if (e.getStoredValue().size() != 8) {
          throw new IOException("snapshot stream for range " + rangeId + " is truncated or corrupt (bad trailer)");
        }
        long expected = ByteBuffer.wrap(e.getStoredValue().toByteArray()).getLong();
        if (expected != count) {
          throw new IOException("snapshot of range " + rangeId + " has " + count + " entries, trailer says " + expected);
        }
        break;
      }
      if (!Keys.inSpan(e.getKey().toByteArray(), range.getStart().toByteArray(), range.getEnd().toByteArray())) {
        throw new IOException("snapshot of range " + rangeId + " holds a key outside its span");
      }
      m.put(e.getLock() ? ColumnFamily.LOCKS : ColumnFamily.DATA, e.getKey().toByteArray(),
          e.getStoredValue().toByteArray());
      count++;
      partBytes += e.getKey().size() + e.getStoredValue().size();
      if (partBytes >= PART_BYTES) {
        batch.add(m);
        m = new Mutations();
        partBytes = 0;
      }
    }
    batch.add(m);
  }

  /** Adds deletes of everything the range's span holds (data and intents) to {@code m}. */
  public static void clearSpan(Mutations m, RangeDescriptor range) {
    clearSpan(m, range.getStart().toByteArray(), endOf(range));
  }

  private static void clearSpan(Mutations m, byte[] start, byte[] end) {
    if (Keys.compare(start, end) >= 0) {
      return;
    }
    for (ColumnFamily cf : SPAN_FAMILIES) {
      m.deleteSpan(cf, start, end);
    }
  }

  /** {@link #clearSpan} of the parts of the range's span that no range of {@code keep} covers. */
  public static void clearSpanExcept(Mutations m, RangeDescriptor range, List<RangeDescriptor> keep) {
    byte[] start = range.getStart().toByteArray();
    byte[] end = endOf(range);
    List<RangeDescriptor> inside = keep.stream()
        .filter(k -> k.getId() != range.getId() && Ranges.overlaps(k, start, range.getEnd().toByteArray()))
        .sorted((a, b) -> Keys.compare(a.getStart().toByteArray(), b.getStart().toByteArray())).toList();
    byte[] from = start;
    for (RangeDescriptor k : inside) {
      byte[] kStart = k.getStart().toByteArray();
      clearSpan(m, from, Keys.compare(kStart, end) < 0 ? kStart : end);
      byte[] kEnd = endOf(k);
      if (Keys.compare(kEnd, from) > 0) {
        from = kEnd;
      }
    }
    clearSpan(m, from, end);
  }

  private static byte[] endOf(RangeDescriptor range) {
    return range.getEnd().isEmpty() ? Keys.END_OF_KEYSPACE : range.getEnd().toByteArray();
  }

  private static RangeDescriptor parseDescriptor(byte[] bytes) {
    try {
      return RangeDescriptor.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt range descriptor in meta", e);
    }
  }

  /**
   * A checksum of the range's data (keys, versions, values) and intents: equal on replicas
   * that applied the same log. Reads one consistent engine snapshot.
   */
  public static long checksum(KvEngine engine, RangeDescriptor range) {
    try (KvEngine.Snapshot snap = engine.snapshot()) {
      return checksum(snap, range);
    }
  }

  /**
   * The checksum of the range's data as {@code reader} (a consistent snapshot) sees it: CRC32C
   * over each key and value with its length first (so bytes cannot move between the two
   * unnoticed). Stops with an exception once the thread is interrupted.
   */
  public static long checksum(KvReader reader, RangeDescriptor range) {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    java.nio.ByteBuffer length = java.nio.ByteBuffer.allocate(4);
    for (ColumnFamily cf : SPAN_FAMILIES) {
      crc.update(cf.ordinal());
      try (KvIterator it = reader.iterate(cf, range.getStart().toByteArray(), range.getEnd().toByteArray(), false)) {
        for (; it.valid(); it.next()) {
          if (Thread.currentThread().isInterrupted()) {
            throw new IllegalStateException("checksum of range " + range.getId() + " interrupted");
          }
          for (byte[] part : new byte[][] {it.key(), it.value()}) {
            crc.update(length.clear().putInt(part.length).array());
            crc.update(part);
          }
        }
      }
    }
    return crc.getValue();
  }
}
