package io.flotilla.bench.jmh;

import io.flotilla.bench.ScratchDir;
import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.Mutations;
import io.flotilla.statemachine.RocksDbKvEngine;
import io.flotilla.statemachine.StoredValue;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The node's RocksDB engine alone: one key written per batch (as apply writes), one key read, and
 * a write followed by {@link RocksDbKvEngine#sync()}, the price of an fsync of RocksDB's own WAL,
 * which the Raft log makes redundant (see the engine's javadoc).
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RocksEngineBench extends ShortRun {
  @Param({"1024"})
  int valueSize;

  private ScratchDir dir;
  private RocksDbKvEngine engine;
  private byte[][] keys;
  private byte[] stored;
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = ScratchDir.create("flotilla-jmh-rocks-");
    engine = RocksDbKvEngine.open(dir.path(), 64L << 20);
    stored = new StoredValue(1, 0, BenchData.value(valueSize)).encode();
    keys = new byte[BenchData.KEYS][];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = BenchData.key(i);
      engine.write(new Mutations().put(ColumnFamily.DATA, keys[i], stored));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
    dir.close();
  }

  @Benchmark
  public void put() {
    engine.write(new Mutations().put(ColumnFamily.DATA, keys[next++ % keys.length], stored));
  }

  @Benchmark
  public byte[] get() {
    return engine.get(ColumnFamily.DATA, keys[next++ % keys.length]);
  }

  @Benchmark
  public void putAndSync() {
    engine.write(new Mutations().put(ColumnFamily.DATA, keys[next++ % keys.length], stored));
    engine.sync();
  }
}
