package io.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.proto.BatchEntry;
import io.flotilla.proto.BatchOp;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.DeleteOp;
import io.flotilla.proto.DeleteSpanOp;
import io.flotilla.proto.GetOp;
import io.flotilla.proto.IncrOp;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import io.flotilla.proto.Rejection;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The apply function of one range, driven the way the Raft state machine drives it. */
class RangeLogicTest {
  private static final RangeDescriptor RANGE = RangeDescriptor.newBuilder().setId(7)
      .setStart(ByteString.copyFromUtf8("b")).setEnd(ByteString.copyFromUtf8("m"))
      .setEpoch(RangeEpoch.newBuilder().setVersion(3).setConf(1)).build();

  private final InMemoryKvEngine engine = new InMemoryKvEngine();
  private long revision;
  private long now = 1_000_000;

  private CommandResult apply(Command.Builder command) {
    RangeLogic.Applied applied = RangeLogic.apply(command.setRangeId(7).setEpoch(RANGE.getEpoch())
        .setProposedAtMillis(now).build(), RANGE, revision, engine);
    engine.write(applied.mutations());
    assertEquals(applied.revision(), applied.result().getRevision());
    revision = applied.revision();
    return applied.result();
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private CommandResult put(String key, String value) {
    return apply(Command.newBuilder().setPut(PutOp.newBuilder().setKey(b(key)).setValue(b(value))));
  }

  private CommandResult putIf(String key, String value, long ifVersion) {
    return apply(Command.newBuilder().setPut(PutOp.newBuilder().setKey(b(key)).setValue(b(value)).setIfVersion(ifVersion)));
  }

  private CommandResult delete(String key) {
    return apply(Command.newBuilder().setDelete(DeleteOp.newBuilder().setKey(b(key))));
  }

  private CommandResult incr(String key, long delta) {
    return apply(Command.newBuilder().setIncr(IncrOp.newBuilder().setKey(b(key)).setDelta(delta)));
  }

  private String value(String key) {
    byte[] stored = engine.get(ColumnFamily.DATA, key.getBytes(StandardCharsets.UTF_8));
    return stored == null ? null : new String(StoredValue.decode(stored).value(), StandardCharsets.UTF_8);
  }

  @Test
  void eachAcceptedWriteBumpsTheRevisionByOneAndStampsItAsTheKeysVersion() {
    CommandResult first = put("c", "1");
    CommandResult second = put("d", "2");
    assertEquals(1, first.getRevision());
    assertEquals(1, first.getPut().getVersion());
    assertEquals(2, second.getRevision());
    assertEquals(2, second.getPut().getVersion());
  }

  @Test
  void versionNeverRepeatsAfterDeleteAndRecreate() {
    long v1 = put("c", "1").getPut().getVersion();
    assertTrue(delete("c").getDelete().getDeleted());
    long v2 = put("c", "2").getPut().getVersion();
    assertTrue(v2 > v1);
  }

  @Test
  void aFailedConditionIsRejectedWithTheCurrentVersionAndChangesNothing() {
    long v = putIf("c", "1", 0).getPut().getVersion();
    long before = revision;
    CommandResult exists = putIf("c", "2", 0);
    assertEquals(Rejection.Reason.VERSION_CONFLICT, exists.getRejected().getReason());
    assertEquals(v, exists.getRejected().getCurrentVersion());
    CommandResult wrong = putIf("c", "2", v + 5);
    assertEquals(Rejection.Reason.VERSION_CONFLICT, wrong.getRejected().getReason());
    assertEquals(before, revision, "rejections keep the revision");
    assertEquals("1", value("c"));
    assertTrue(putIf("c", "3", v).hasPut());
    assertEquals("3", value("c"));
  }

  @Test
  void conditionalDeleteChecksTheVersionAndAnAbsentKeyHasVersionZero() {
    long v = put("c", "1").getPut().getVersion();
    CommandResult wrong = apply(Command.newBuilder().setDelete(DeleteOp.newBuilder().setKey(b("c")).setIfVersion(v + 1)));
    assertTrue(wrong.hasRejected());
    CommandResult right = apply(Command.newBuilder().setDelete(DeleteOp.newBuilder().setKey(b("c")).setIfVersion(v)));
    assertTrue(right.getDelete().getDeleted());
    CommandResult absent = apply(Command.newBuilder().setDelete(DeleteOp.newBuilder().setKey(b("c")).setIfVersion(1)));
    assertEquals(0, absent.getRejected().getCurrentVersion());
  }

  @Test
  void deletingAnAbsentKeyReportsFalseAndKeepsTheRevision() {
    long before = revision;
    assertFalse(delete("c").getDelete().getDeleted());
    assertEquals(before, revision);
  }

  @Test
  void incrementStartsFromZeroAndRefusesNonIntegersAndOverflow() {
    assertEquals(5, incr("c", 5).getIncr().getValue());
    assertEquals(-2, incr("c", -7).getIncr().getValue());
    assertEquals("-2", value("c"));
    put("d", "twelve");
    assertEquals(Rejection.Reason.NOT_AN_INTEGER, incr("d", 1).getRejected().getReason());
    put("e", Long.toString(Long.MAX_VALUE));
    assertEquals(Rejection.Reason.NOT_AN_INTEGER, incr("e", 1).getRejected().getReason());
    assertEquals(Long.toString(Long.MAX_VALUE), value("e"));
    for (String bad : new String[] {"", "-", "1.5", " 1", "+1", "0x10"}) {
      put("f", bad);
      assertTrue(incr("f", 1).hasRejected(), () -> "'" + bad + "' is not an integer");
    }
  }

  @Test
  void expiryIsJudgedByTheProposalTimeOfEachCommand() {
    apply(Command.newBuilder().setPut(PutOp.newBuilder().setKey(b("c")).setValue(b("x")).setExpiresAtMillis(now + 1000)));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, putIf("c", "y", 0).getRejected().getReason());
    now += 1000; // the key has expired for every command proposed from now on
    assertTrue(putIf("c", "y", 0).hasPut(), "an expired key counts as absent");
    assertEquals(1, incr("c2", 1).getIncr().getValue());
  }

  @Test
  void anAtomicBatchAppliesAllOrNothingAndNamesTheFailingOp() {
    put("c", "old");
    CommandResult failed = apply(Command.newBuilder().setBatch(BatchOp.newBuilder().setAtomic(true)
        .addEntries(BatchEntry.newBuilder().setPut(PutOp.newBuilder().setKey(b("d")).setValue(b("1"))))
        .addEntries(BatchEntry.newBuilder().setPut(PutOp.newBuilder().setKey(b("c")).setValue(b("2")).setIfVersion(0)))));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, failed.getRejected().getReason());
    assertEquals(1, failed.getRejected().getFailedIndex());
    assertEquals(null, value("d"));

    CommandResult ok = apply(Command.newBuilder().setBatch(BatchOp.newBuilder().setAtomic(true)
        .addEntries(BatchEntry.newBuilder().setPut(PutOp.newBuilder().setKey(b("d")).setValue(b("1"))))
        .addEntries(BatchEntry.newBuilder().setDelete(DeleteOp.newBuilder().setKey(b("c"))))
        .addEntries(BatchEntry.newBuilder().setGet(GetOp.newBuilder().setKey(b("d"))))
        .addEntries(BatchEntry.newBuilder().setGet(GetOp.newBuilder().setKey(b("c"))))));
    assertEquals("1", ok.getBatch().getResults(2).getGet().getKv().getValue().toStringUtf8(),
        "reads in a batch see its earlier writes");
    assertFalse(ok.getBatch().getResults(3).getGet().getFound());
    assertEquals(ok.getRevision(), ok.getBatch().getResults(0).getPut().getVersion());
    assertEquals(null, value("c"));
  }

  @Test
  void aNonAtomicBatchAppliesEveryOpOnItsOwn() {
    put("c", "old");
    CommandResult r = apply(Command.newBuilder().setBatch(BatchOp.newBuilder().setAtomic(false)
        .addEntries(BatchEntry.newBuilder().setPut(PutOp.newBuilder().setKey(b("c")).setValue(b("x")).setIfVersion(0)))
        .addEntries(BatchEntry.newBuilder().setPut(PutOp.newBuilder().setKey(b("d")).setValue(b("y"))))));
    assertTrue(r.getBatch().getResults(0).hasError());
    assertTrue(r.getBatch().getResults(1).hasPut());
    assertEquals("old", value("c"));
    assertEquals("y", value("d"));
  }

  @Test
  void deletingASpanCountsLiveKeysAndStaysInsideTheRange() {
    put("c1", "1");
    put("c2", "2");
    apply(Command.newBuilder().setPut(PutOp.newBuilder().setKey(b("c3")).setValue(b("x")).setExpiresAtMillis(now + 1)));
    put("d", "4");
    now += 10;
    CommandResult r = apply(Command.newBuilder().setDeleteSpan(DeleteSpanOp.newBuilder().setStart(b("a")).setEnd(b("d"))));
    assertEquals(2, r.getDeleteSpan().getDeleted(), "the expired key is removed but not counted");
    assertEquals(null, value("c3"));
    assertEquals("4", value("d"));
  }

  @Test
  void aStaleEpochOrAKeyOutsideTheSpanIsRejectedWithTheRangeDescriptor() {
    RangeLogic.Applied stale = RangeLogic.apply(Command.newBuilder().setRangeId(7)
        .setEpoch(RangeEpoch.newBuilder().setVersion(2).setConf(1))
        .setPut(PutOp.newBuilder().setKey(b("c")).setValue(b("x"))).build(), RANGE, revision, engine);
    assertEquals(Rejection.Reason.EPOCH_MISMATCH, stale.result().getRejected().getReason());
    assertEquals(RANGE, stale.result().getRejected().getCurrent());
    assertTrue(stale.mutations().isEmpty());

    CommandResult outside = put("z", "x");
    assertEquals(Rejection.Reason.KEY_OUT_OF_RANGE, outside.getRejected().getReason());
    assertEquals(RANGE, outside.getRejected().getCurrent());
    assertEquals(null, value("z"));
  }

  @Test
  void storedValuesRoundTripTheirHeader() {
    StoredValue v = new StoredValue(42, 99, "payload".getBytes(StandardCharsets.UTF_8));
    StoredValue back = StoredValue.decode(v.encode());
    assertEquals(42, back.version());
    assertEquals(99, back.expiresAtMillis());
    assertEquals("payload", new String(back.value(), StandardCharsets.UTF_8));
    assertTrue(back.expiredAt(99));
    assertFalse(back.expiredAt(98));
  }
}
