package io.flotilla.bench.jmh;

import io.flotilla.bench.ScratchDir;
import com.google.protobuf.ByteString;
import io.flotilla.proto.Command;
import io.flotilla.proto.GetOp;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeState;
import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.InMemoryKvEngine;
import io.flotilla.statemachine.KvEngine;
import io.flotilla.statemachine.MetaKeys;
import io.flotilla.statemachine.Mutations;
import io.flotilla.statemachine.RangeLogic;
import io.flotilla.statemachine.RangeQueries;
import io.flotilla.statemachine.RocksDbKvEngine;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One replica's share of a put and of a strong get, without Raft: what the range state machine
 * does per log entry (decode, {@link RangeLogic#apply}, one engine write carrying the data and the
 * applied index) and what a read does ({@link RangeQueries#evaluate}). The in-memory engine
 * separates the apply logic's own cost from RocksDB's.
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ApplyBench extends ShortRun {
  @Param({"rocksdb", "memory"})
  String engineKind;

  @Param({"1024"})
  int valueSize;

  private ScratchDir dir;
  private KvEngine engine;
  private byte[][] commands;
  private byte[][] keys;
  private long revision;
  private long index;
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    if (engineKind.equals("rocksdb")) {
      dir = ScratchDir.create("flotilla-jmh-apply-");
      engine = RocksDbKvEngine.open(dir.path(), 64L << 20);
    } else {
      engine = new InMemoryKvEngine();
    }
    byte[] value = BenchData.value(valueSize);
    commands = new byte[BenchData.KEYS][];
    keys = new byte[BenchData.KEYS][];
    for (int i = 0; i < BenchData.KEYS; i++) {
      keys[i] = BenchData.key(i);
      commands[i] = BenchData.put(keys[i], value).toByteArray();
      apply(commands[i]);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
    if (dir != null) {
      dir.close();
    }
  }

  /** As the range state machine applies a committed log entry. */
  @Benchmark
  public RangeLogic.Applied applyPut() throws IOException {
    return apply(commands[next++ % commands.length]);
  }

  @Benchmark
  public QueryResult get() {
    Query query = Query.newBuilder().setRangeId(BenchData.RANGE_ID).setEpoch(BenchData.EPOCH)
        .setNowMillis(System.currentTimeMillis())
        .setGet(GetOp.newBuilder().setKey(ByteString.copyFrom(keys[next++ % keys.length])))
        .build();
    return RangeQueries.evaluate(query, BenchData.RANGE, revision, engine);
  }

  private RangeLogic.Applied apply(byte[] entry) throws IOException {
    Command command = Command.parseFrom(entry);
    RangeLogic.Applied applied = RangeLogic.apply(command, BenchData.RANGE, revision, engine);
    index++;
    Mutations m = new Mutations().addAll(applied.mutations());
    m.put(ColumnFamily.META, MetaKeys.state(BenchData.RANGE_ID), RangeState.newBuilder().setAppliedTerm(1)
        .setAppliedIndex(index).setRevision(applied.revision()).build().toByteArray());
    engine.write(m);
    revision = applied.revision();
    return applied;
  }
}
