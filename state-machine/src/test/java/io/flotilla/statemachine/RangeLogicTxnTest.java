package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.bs;
import static io.flotilla.statemachine.Replica.entry;
import static io.flotilla.statemachine.Replica.entryGet;
import static io.flotilla.statemachine.Replica.put;
import static io.flotilla.statemachine.Replica.putOp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.proto.BatchEntry;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.ExpireOp;
import io.flotilla.proto.GetResult;
import io.flotilla.proto.Intent;
import io.flotilla.proto.KeyVersion;
import io.flotilla.proto.Query;
import io.flotilla.proto.Rejection;
import io.flotilla.proto.ScanQuery;
import io.flotilla.proto.TxnDecideOp;
import io.flotilla.proto.TxnPrepareOp;
import io.flotilla.proto.TxnResolveOp;
import io.flotilla.proto.TxnStatus;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * The transaction commands of one range: prepare locks keys behind intents, the anchor's range
 * decides once, resolve applies or drops the intents; plain writes stay off locked keys.
 */
class RangeLogicTxnTest {
  private static final ByteString TXN = bs("txn-1");
  private static final ByteString OTHER = bs("txn-2");
  private final Replica replica = new Replica(new InMemoryKvEngine(), Replica.range(7, "b", "m", 3, 1));

  private static Command.Builder prepare(ByteString txn, String anchor, boolean withParticipants,
      BatchEntry.Builder... entries) {
    TxnPrepareOp.Builder op = TxnPrepareOp.newBuilder().setTxnId(txn).setAnchorKey(bs(anchor));
    for (int i = 0; i < entries.length; i++) {
      op.addEntries(entries[i]).addIndexes(10 + i);
    }
    if (withParticipants) {
      op.addParticipantKeys(bs(anchor)).addParticipantKeys(bs("x-in-another-range"));
    }
    return Command.newBuilder().setTxnPrepare(op);
  }

  private static Command.Builder decide(ByteString txn, String anchor, boolean commit) {
    return Command.newBuilder().setTxnDecide(TxnDecideOp.newBuilder().setTxnId(txn).setAnchorKey(bs(anchor))
        .setCommit(commit));
  }

  private static Command.Builder resolve(ByteString txn, boolean commit, String... keys) {
    TxnResolveOp.Builder op = TxnResolveOp.newBuilder().setTxnId(txn).setCommit(commit);
    for (String k : keys) {
      op.addKeys(bs(k));
    }
    return Command.newBuilder().setTxnResolve(op);
  }

  private Intent lock(String key) {
    byte[] raw = replica.engine.get(ColumnFamily.LOCKS, Replica.k(key));
    return raw == null ? null : Intents.decode(raw);
  }

  @Test
  void prepareLocksKeysWithoutChangingVisibleData() {
    replica.apply(put("c", "old"));
    CommandResult r = replica.apply(prepare(TXN, "c", true, entry(putOp("c", "new")), entry(putOp("d", "1"))));
    assertFalse(r.hasRejected());
    assertEquals(2, r.getRevision(), "a prepare consumes a revision: the versions its writes will get");
    assertEquals(2, r.getTxnPrepare().getResults(0).getPut().getVersion());
    assertEquals("old", replica.value("c"));
    assertNull(replica.value("d"));
    Intent anchor = lock("c");
    assertEquals(TxnStatus.TXN_PENDING, anchor.getStatus());
    assertEquals(2, anchor.getParticipantKeysCount());
    assertTrue(Intents.isRecord(anchor));
    assertFalse(Intents.isRecord(lock("d")));
    GetResult read = replica.read("c");
    assertEquals("old", read.getKv().getValue().toStringUtf8(), "readers see the committed state");
    assertEquals(TXN, read.getLock().getTxnId(), "and learn that a transaction holds the key");
  }

  @Test
  void commitThenResolveAppliesTheIntentsWithThePreparedVersions() {
    replica.apply(prepare(TXN, "c", true, entry(putOp("c", "1")), entry(Replica.deleteOp("e"))));
    replica.apply(put("f", "other")); // revision 2
    assertEquals(TxnStatus.TXN_COMMITTED, replica.apply(decide(TXN, "c", true)).getTxnDecide().getStatus());
    assertEquals(2, replica.revision, "deciding changes nothing visible");
    CommandResult r = replica.apply(resolve(TXN, true, "c", "e"));
    assertEquals(2, r.getTxnResolve().getResolved());
    assertEquals(3, r.getRevision(), "resolving a commit is a visible write");
    assertEquals("1", replica.value("c"));
    assertEquals(1, replica.stored("c").version(), "the version decided at prepare time");
    assertNull(lock("c"));
    assertNull(lock("e"));
  }

  @Test
  void theRecordIsNotReleasedWhileUndecided() {
    replica.apply(prepare(TXN, "c", true, entry(putOp("c", "1"))));
    CommandResult r = replica.apply(resolve(TXN, false, "c"));
    assertEquals(0, r.getTxnResolve().getResolved());
    assertEquals(1, r.getTxnResolve().getStillPending());
    assertTrue(lock("c") != null);
  }

  @Test
  void abortDropsIntentsAndNothingIsWritten() {
    replica.apply(put("c", "old"));
    replica.apply(prepare(TXN, "c", true, entry(putOp("c", "new")), entry(putOp("d", "1"))));
    assertEquals(TxnStatus.TXN_ABORTED, replica.apply(decide(TXN, "c", false)).getTxnDecide().getStatus());
    CommandResult r = replica.apply(resolve(TXN, true, "d", "c")); // the record's status wins for the anchor
    assertEquals("old", replica.value("c"));
    // "d" is not the anchor: its resolution follows the caller's decision, which must be the
    // anchor's; here the caller (wrongly) says commit, so only the record is protected.
    assertEquals(2, r.getTxnResolve().getResolved());
    assertNull(lock("c"));
  }

  @Test
  void commitAndAbortCannotBothWin() {
    replica.apply(prepare(TXN, "c", true, entry(putOp("c", "1"))));
    assertEquals(TxnStatus.TXN_ABORTED, replica.apply(decide(TXN, "c", false)).getTxnDecide().getStatus());
    CommandResult commit = replica.apply(decide(TXN, "c", true));
    assertEquals(Rejection.Reason.TXN_DECIDED, commit.getRejected().getReason());
    assertEquals(TxnStatus.TXN_ABORTED, commit.getRejected().getStatus());
    assertEquals(TxnStatus.TXN_ABORTED, replica.apply(decide(TXN, "c", false)).getTxnDecide().getStatus(),
        "deciding the same way again is idempotent");
  }

  @Test
  void committingATransactionWithoutARecordIsRefused() {
    CommandResult r = replica.apply(decide(TXN, "c", true));
    assertEquals(Rejection.Reason.TXN_DECIDED, r.getRejected().getReason());
    assertEquals(TxnStatus.TXN_ABORTED, r.getRejected().getStatus());
  }

  @Test
  void aSecondTransactionOnALockedKeyIsRefusedWithTheLock() {
    replica.apply(prepare(TXN, "c", true, entry(putOp("c", "1"))));
    CommandResult r = replica.apply(prepare(OTHER, "d", true, entry(putOp("d", "1")), entry(putOp("c", "2"))));
    assertEquals(Rejection.Reason.LOCKED, r.getRejected().getReason());
    assertEquals(TXN, r.getRejected().getLock().getTxnId());
    assertEquals(11, r.getRejected().getFailedIndex());
    assertNull(lock("d"), "a refused prepare locks nothing");
  }

  @Test
  void plainWritesOnLockedKeysAreRefusedWholeButReadsPass() {
    replica.apply(prepare(TXN, "c", true, entryGet("c")));
    for (Command.Builder write : new Command.Builder[] {put("c", "x"), Replica.delete("c"), Replica.incr("c", 1),
        Replica.batch(false, entry(putOp("d", "1")), entry(putOp("c", "1"))), Replica.deleteSpan("b", "e")}) {
      CommandResult r = replica.apply(write);
      assertEquals(Rejection.Reason.LOCKED, r.getRejected().getReason(), write.getKindCase().toString());
    }
    assertNull(replica.value("d"), "the non-atomic batch was refused whole");
    assertFalse(replica.apply(Replica.batch(true, entryGet("c"))).hasRejected());
    assertFalse(replica.apply(Replica.deleteSpan("d", "m")).hasRejected(), "a span without locks");
  }

  @Test
  void aBatchsGetsMeetWriteIntentsSoTheyCannotSeeHalfATransaction() {
    replica.apply(put("c", "old"));
    replica.apply(put("d", "old"));
    replica.apply(prepare(TXN, "c", true, entry(putOp("c", "new")), entry(putOp("d", "new"))));
    replica.apply(decide(TXN, "c", true));
    replica.apply(resolve(TXN, true, "d")); // "d" shows the new value, "c" still holds its committed intent
    assertEquals("new", replica.value("d"));
    for (boolean atomic : new boolean[] {true, false}) {
      CommandResult r = replica.apply(Replica.batch(atomic, entryGet("d"), entryGet("c"), entry(putOp("k", "1"))));
      assertEquals(Rejection.Reason.LOCKED, r.getRejected().getReason(), "atomic " + atomic);
      assertEquals(TXN, r.getRejected().getLock().getTxnId());
    }
    assertNull(replica.value("k"), "the refused batch applied nothing");
    replica.apply(resolve(TXN, true, "c"));
    CommandResult after = replica.apply(Replica.batch(true, entryGet("d"), entryGet("c"), entry(putOp("k", "1"))));
    assertEquals("new", after.getBatch().getResults(1).getGet().getKv().getValue().toStringUtf8());
  }

  @Test
  void prepareChecksConditionsAndReportsTheClientsIndex() {
    replica.apply(put("c", "1"));
    CommandResult r = replica.apply(prepare(TXN, "c", true, entry(putOp("c", "2").setIfVersion(1)),
        entry(putOp("d", "2").setIfVersion(5))));
    assertEquals(Rejection.Reason.VERSION_CONFLICT, r.getRejected().getReason());
    assertEquals(11, r.getRejected().getFailedIndex());
    assertEquals(0, r.getRejected().getCurrentVersion());
    assertNull(lock("c"));
  }

  @Test
  void prepareReturnsWhatItsGetsSee() {
    replica.apply(put("c", "1"));
    CommandResult r = replica.apply(prepare(TXN, "c", true, entryGet("c"), entry(putOp("d", "2")), entryGet("d")));
    assertEquals("1", r.getTxnPrepare().getResults(0).getGet().getKv().getValue().toStringUtf8());
    assertEquals("2", r.getTxnPrepare().getResults(2).getGet().getKv().getValue().toStringUtf8(),
        "a get sees the transaction's own earlier writes");
    assertFalse(lock("c").getWrite(), "a read-only key is locked but not written");
  }

  @Test
  void scansReportWriteIntentsInTheirSpan() {
    replica.apply(put("c", "1"));
    replica.apply(prepare(TXN, "d", true, entry(putOp("d", "1")), entryGet("e")));
    var scan = RangeQueries.evaluate(Query.newBuilder().setRangeId(7).setEpoch(replica.range.getEpoch())
        .setScan(ScanQuery.newBuilder().setStart(bs("b")).setLimit(10)).build(), replica.range, replica.revision,
        replica.engine).getScan();
    assertEquals(1, scan.getItemsCount());
    assertEquals(1, scan.getLocksCount(), "the write intent, not the read lock");
    assertEquals(bs("d"), scan.getLocks(0).getKey());
  }

  @Test
  void expireRemovesOnlyExpiredKeysThatKeptTheirVersion() {
    replica.apply(Replica.putExpiring("c", "1", Replica.START_MILLIS + 1000)); // version 1
    replica.apply(Replica.putExpiring("d", "1", Replica.START_MILLIS + 1000)); // version 2
    replica.apply(Replica.putExpiring("e", "1", Replica.START_MILLIS + 5000)); // version 3
    replica.now = Replica.START_MILLIS + 2000;
    CommandResult r = replica.apply(Command.newBuilder().setExpire(ExpireOp.newBuilder()
        .addKeys(KeyVersion.newBuilder().setKey(bs("c")).setVersion(1))
        .addKeys(KeyVersion.newBuilder().setKey(bs("d")).setVersion(99))
        .addKeys(KeyVersion.newBuilder().setKey(bs("e")).setVersion(3))));
    assertEquals(1, r.getExpire().getRemoved());
    assertEquals(3, r.getRevision(), "removing invisible keys is not a visible write");
    assertNull(replica.stored("c"));
    assertTrue(replica.stored("d") != null, "a version mismatch means the key was written again");
    assertTrue(replica.stored("e") != null, "not expired at the proposal time");
  }

  @Test
  void snapshotsCarryIntents() throws IOException {
    replica.apply(put("c", "1"));
    replica.apply(prepare(TXN, "d", true, entry(putOp("d", "1"))));
    replica.engine.write(new Mutations().put(ColumnFamily.META, MetaKeys.descriptor(7), replica.range.toByteArray()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RangeSnapshots.write(replica.engine, 7, out);
    InMemoryKvEngine other = new InMemoryKvEngine();
    RangeSnapshots.install(other, 7, new ByteArrayInputStream(out.toByteArray()));
    assertEquals(TXN, Intents.decode(other.get(ColumnFamily.LOCKS, Replica.k("d"))).getTxnId());
    assertEquals(RangeSnapshots.checksum(replica.engine, replica.range), RangeSnapshots.checksum(other, replica.range));
  }
}
