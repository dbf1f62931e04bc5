package io.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.proto.BatchEntry;
import io.flotilla.proto.BatchOp;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.DeleteOp;
import io.flotilla.proto.DeleteSpanOp;
import io.flotilla.proto.GetOp;
import io.flotilla.proto.GetResult;
import io.flotilla.proto.IncrOp;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.Query;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import java.nio.charset.StandardCharsets;

/**
 * One range replica in a test, driven the way the Raft state machine drives it: {@link
 * RangeLogic#apply}, then {@code engine.write(applied.mutations())}, then adopt the new revision.
 * Every apply also checks the invariants that hold for any command, so no test can break them
 * unnoticed: the result carries the revision the apply returned, a rejection writes nothing and
 * keeps the revision, and an accepted command moves the revision by zero or exactly one.
 */
final class Replica {
  static final long START_MILLIS = 1_700_000_000_000L;

  final KvEngine engine;
  RangeDescriptor range;
  long revision;
  /** The proposer's clock, copied into every command as proposed_at_millis. */
  long now = START_MILLIS;
  /** The outcome of the last apply, for tests that look at the mutations themselves. */
  RangeLogic.Applied last;

  Replica(KvEngine engine, RangeDescriptor range) {
    this.engine = engine;
    this.range = range;
  }

  static RangeDescriptor range(long id, String start, String end, long epochVersion, long epochConf) {
    return RangeDescriptor.newBuilder().setId(id).setStart(bs(start)).setEnd(bs(end))
        .setEpoch(RangeEpoch.newBuilder().setVersion(epochVersion).setConf(epochConf)).build();
  }

  static RangeDescriptor range(long id, String start, String end, long epochVersion, long epochConf,
      String... replicas) {
    return range(id, start, end, epochVersion, epochConf).toBuilder().addAllReplicas(java.util.List.of(replicas))
        .build();
  }

  /** Routes the command correctly (this range's id and epoch, now as proposal time) and applies it. */
  CommandResult apply(Command.Builder command) {
    return applyAsRouted(command.setRangeId(range.getId()).setEpoch(range.getEpoch()).setProposedAtMillis(now).build());
  }

  /** Applies the command exactly as given, routing fields included. */
  CommandResult applyAsRouted(Command command) {
    long before = revision;
    RangeLogic.Applied applied = RangeLogic.apply(command, range, revision, engine);
    engine.write(applied.mutations());
    last = applied;
    CommandResult result = applied.result();
    assertEquals(applied.revision(), result.getRevision(), "the result carries the revision after the command");
    if (result.hasRejected()) {
      assertTrue(applied.mutations().isEmpty(), "a rejected command writes nothing");
      assertEquals(before, applied.revision(), "a rejected command keeps the revision");
    } else if (command.hasMergeCommit()) {
      // The merged range continues from the larger of the two revisions.
      assertTrue(applied.revision() >= before, () -> "the revision went back from " + before);
    } else {
      assertTrue(applied.revision() == before || applied.revision() == before + 1,
          () -> "the revision moved from " + before + " to " + applied.revision());
    }
    if (result.hasRangeChange()) {
      range = result.getRangeChange().getRange();
    }
    revision = applied.revision();
    return result;
  }

  // ---- commands ----

  static Command.Builder put(String key, String value) {
    return Command.newBuilder().setPut(putOp(key, value));
  }

  static Command.Builder putIf(String key, String value, long ifVersion) {
    return Command.newBuilder().setPut(putOp(key, value).setIfVersion(ifVersion));
  }

  static Command.Builder putExpiring(String key, String value, long expiresAtMillis) {
    return Command.newBuilder().setPut(putOp(key, value).setExpiresAtMillis(expiresAtMillis));
  }

  static Command.Builder delete(String key) {
    return Command.newBuilder().setDelete(deleteOp(key));
  }

  static Command.Builder deleteIf(String key, long ifVersion) {
    return Command.newBuilder().setDelete(deleteOp(key).setIfVersion(ifVersion));
  }

  static Command.Builder incr(String key, long delta) {
    return Command.newBuilder().setIncr(IncrOp.newBuilder().setKey(bs(key)).setDelta(delta));
  }

  static Command.Builder deleteSpan(String start, String end) {
    return Command.newBuilder().setDeleteSpan(DeleteSpanOp.newBuilder().setStart(bs(start)).setEnd(bs(end)));
  }

  static Command.Builder batch(boolean atomic, BatchEntry.Builder... entries) {
    BatchOp.Builder b = BatchOp.newBuilder().setAtomic(atomic);
    for (BatchEntry.Builder e : entries) {
      b.addEntries(e);
    }
    return Command.newBuilder().setBatch(b);
  }

  static PutOp.Builder putOp(String key, String value) {
    return PutOp.newBuilder().setKey(bs(key)).setValue(bs(value));
  }

  static DeleteOp.Builder deleteOp(String key) {
    return DeleteOp.newBuilder().setKey(bs(key));
  }

  static BatchEntry.Builder entry(PutOp.Builder put) {
    return BatchEntry.newBuilder().setPut(put);
  }

  static BatchEntry.Builder entry(DeleteOp.Builder delete) {
    return BatchEntry.newBuilder().setDelete(delete);
  }

  static BatchEntry.Builder entryGet(String key) {
    return BatchEntry.newBuilder().setGet(GetOp.newBuilder().setKey(bs(key)));
  }

  // ---- looking at the data ----

  /** The stored entry exactly as the engine holds it (expired or not), or null. */
  StoredValue stored(String key) {
    byte[] raw = engine.get(ColumnFamily.DATA, k(key));
    return raw == null ? null : StoredValue.decode(raw);
  }

  /** The stored value as a string (expired or not), or null when no entry is stored. */
  String value(String key) {
    StoredValue v = stored(key);
    return v == null ? null : new String(v.value(), StandardCharsets.UTF_8);
  }

  /** A read through {@link RangeQueries} at the proposer's current time. */
  GetResult read(String key) {
    return RangeQueries.evaluate(Query.newBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch())
        .setNowMillis(now).setGet(GetOp.newBuilder().setKey(bs(key))).build(), range, revision, engine).getGet();
  }

  static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static byte[] k(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
