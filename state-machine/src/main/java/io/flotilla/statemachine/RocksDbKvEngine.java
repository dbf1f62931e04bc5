package io.flotilla.statemachine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Range;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The node's RocksDB: one database, column families {@code data} and {@code meta}.
 *
 * <p>Writes go to RocksDB's WAL without fsync: the Raft log is the durable record, and every
 * batch carries the range's applied index, so after a crash a range resumes exactly where its
 * surviving state ends and Ratis replays the rest. Before Ratis may purge its log
 * ({@code takeSnapshot}) the caller invokes {@link #sync()}.
 */
public final class RocksDbKvEngine implements KvEngine {
  static {
    RocksDB.loadLibrary();
  }

  private final RocksDB db;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions cfOptions;
  private final LRUCache cache;
  private final WriteOptions writeOptions;
  private final List<ColumnFamilyHandle> handles = new ArrayList<>();
  private final Map<ColumnFamily, ColumnFamilyHandle> families = new EnumMap<>(ColumnFamily.class);

  private RocksDbKvEngine(Path dir, long blockCacheBytes) throws RocksDBException {
    cache = new LRUCache(blockCacheBytes);
    cfOptions = new ColumnFamilyOptions()
        .setTableFormatConfig(new BlockBasedTableConfig()
            .setBlockCache(cache)
            .setFilterPolicy(new BloomFilter(10, false))
            .setWholeKeyFiltering(true))
        .optimizeLevelStyleCompaction();
    dbOptions = new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setAtomicFlush(true)
        .setMaxBackgroundJobs(2)
        .setKeepLogFileNum(3);
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
    for (ColumnFamily cf : ColumnFamily.values()) {
      descriptors.add(new ColumnFamilyDescriptor(cf.dbName().getBytes(), cfOptions));
    }
    db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
    for (ColumnFamily cf : ColumnFamily.values()) {
      families.put(cf, handles.get(cf.ordinal() + 1));
    }
    writeOptions = new WriteOptions().setSync(false);
  }

  public static RocksDbKvEngine open(Path dir, long blockCacheBytes) {
    try {
      Files.createDirectories(dir);
      return new RocksDbKvEngine(dir, blockCacheBytes);
    } catch (Exception e) {
      throw new IllegalStateException("cannot open RocksDB at " + dir + ": " + e.getMessage(), e);
    }
  }

  @Override
  public byte[] get(ColumnFamily cf, byte[] key) {
    try {
      return db.get(families.get(cf), key);
    } catch (RocksDBException e) {
      throw new IllegalStateException("RocksDB read failed: " + e.getMessage(), e);
    }
  }

  @Override
  public KvIterator iterate(ColumnFamily cf, byte[] start, byte[] end, boolean reverse) {
    return new RocksKvIterator(db, families.get(cf), new ReadOptions(), start, end, reverse);
  }

  @Override
  public void write(Mutations mutations) {
    try (WriteBatch batch = new WriteBatch()) {
      append(batch, mutations);
      db.write(writeOptions, batch);
    } catch (RocksDBException e) {
      // A failed apply write must stop the replica: continuing would diverge from the log.
      throw new IllegalStateException("RocksDB write failed: " + e.getMessage(), e);
    }
  }

  /** Stages the parts in a native write batch, off the Java heap, until the commit. */
  @Override
  public Batch newBatch() {
    WriteBatch batch = new WriteBatch();
    return new Batch() {
      @Override
      public void add(Mutations part) {
        try {
          append(batch, part);
        } catch (RocksDBException e) {
          throw new IllegalStateException("RocksDB batch failed: " + e.getMessage(), e);
        }
      }

      @Override
      public void commit() {
        try {
          db.write(writeOptions, batch);
        } catch (RocksDBException e) {
          throw new IllegalStateException("RocksDB write failed: " + e.getMessage(), e);
        }
      }

      @Override
      public void close() {
        batch.close();
      }
    };
  }

  private void append(WriteBatch batch, Mutations mutations) throws RocksDBException {
    for (Mutations.Op op : mutations.ops()) {
      ColumnFamilyHandle h = families.get(op.cf());
      switch (op.kind()) {
        case PUT -> batch.put(h, op.key(), op.value());
        case DELETE -> batch.delete(h, op.key());
        case DELETE_SPAN -> {
          if (io.flotilla.common.Keys.compare(op.key(), op.value()) < 0) { // RocksDB refuses inverted spans
            batch.deleteRange(h, op.key(), op.value());
          }
        }
      }
    }
  }

  @Override
  public Snapshot snapshot() {
    org.rocksdb.Snapshot snap = db.getSnapshot();
    return new Snapshot() {
      @Override
      public byte[] get(ColumnFamily cf, byte[] key) {
        try (ReadOptions ro = new ReadOptions().setSnapshot(snap)) {
          return db.get(families.get(cf), ro, key);
        } catch (RocksDBException e) {
          throw new IllegalStateException("RocksDB read failed: " + e.getMessage(), e);
        }
      }

      @Override
      public KvIterator iterate(ColumnFamily cf, byte[] start, byte[] end, boolean reverse) {
        return new RocksKvIterator(db, families.get(cf), new ReadOptions().setSnapshot(snap), start, end, reverse);
      }

      @Override
      public void close() {
        db.releaseSnapshot(snap);
      }
    };
  }

  @Override
  public void sync() {
    try {
      db.flushWal(true);
    } catch (RocksDBException e) {
      throw new IllegalStateException("RocksDB WAL sync failed: " + e.getMessage(), e);
    }
  }

  @Override
  public long approximateSize(byte[] start, byte[] end) {
    byte[] limit = end.length == 0 ? io.flotilla.common.Keys.END_OF_KEYSPACE : end;
    try (Slice s = new Slice(start); Slice e = new Slice(limit)) {
      long[] sizes = db.getApproximateSizes(families.get(ColumnFamily.DATA), List.of(new Range(s, e)),
          org.rocksdb.SizeApproximationFlag.INCLUDE_FILES, org.rocksdb.SizeApproximationFlag.INCLUDE_MEMTABLES);
      return sizes[0];
    }
  }

  @Override
  public long estimatedKeys() {
    return longProperty("rocksdb.estimate-num-keys");
  }

  @Override
  public long totalBytes() {
    return longProperty("rocksdb.total-sst-files-size") + longProperty("rocksdb.cur-size-all-mem-tables");
  }

  private long longProperty(String name) {
    try {
      return db.getLongProperty(families.get(ColumnFamily.DATA), name);
    } catch (RocksDBException e) {
      return 0;
    }
  }

  @Override
  public void close() {
    for (ColumnFamilyHandle h : handles) {
      h.close();
    }
    db.close();
    writeOptions.close();
    dbOptions.close();
    cfOptions.close();
    cache.close();
  }

  /** Iterates [start, end) forward or backward; owns and closes its ReadOptions. */
  private static final class RocksKvIterator implements KvIterator {
    private final ReadOptions options;
    private final RocksIterator it;
    private final byte[] start;
    private final byte[] end;
    private final boolean reverse;

    RocksKvIterator(RocksDB db, ColumnFamilyHandle cf, ReadOptions options, byte[] start, byte[] end, boolean reverse) {
      this.options = options;
      this.start = start;
      this.end = end;
      this.reverse = reverse;
      this.it = db.newIterator(cf, options);
      if (!reverse) {
        it.seek(start);
      } else if (end.length == 0) {
        it.seekToLast();
      } else {
        it.seekForPrev(end);
        if (it.isValid() && java.util.Arrays.equals(it.key(), end)) {
          it.prev();
        }
      }
    }

    @Override
    public boolean valid() {
      if (!it.isValid()) {
        return false;
      }
      byte[] k = it.key();
      return reverse ? io.flotilla.common.Keys.compare(k, start) >= 0
          : end.length == 0 || io.flotilla.common.Keys.compare(k, end) < 0;
    }

    @Override
    public byte[] key() {
      return it.key();
    }

    @Override
    public byte[] value() {
      return it.value();
    }

    @Override
    public void next() {
      if (reverse) {
        it.prev();
      } else {
        it.next();
      }
    }

    @Override
    public void close() {
      it.close();
      options.close();
    }
  }
}
