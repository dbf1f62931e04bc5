package io.flotilla.bench.jmh;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.PutResult;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a put costs in protobuf work on its way through the Raft log: the proposing node encodes
 * the command, every replica decodes it in apply, and the leader encodes the result.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class CommandEncodingBench {
  @Param({"1024"})
  int valueSize;

  private byte[] key;
  private byte[] value;
  private byte[] encoded;

  @Setup
  public void setUp() {
    key = BenchData.key(4242);
    value = BenchData.value(valueSize);
    encoded = BenchData.put(key, value).toByteArray();
  }

  @Benchmark
  public byte[] encodePut() {
    return BenchData.put(key, value).toByteArray();
  }

  @Benchmark
  public Command decodePut() throws InvalidProtocolBufferException {
    return Command.parseFrom(encoded);
  }

  @Benchmark
  public byte[] encodePutResult() {
    return CommandResult.newBuilder().setRevision(123_456).setPut(PutResult.newBuilder().setVersion(123_456))
        .build().toByteArray();
  }
}
