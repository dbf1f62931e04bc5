package io.flotilla.statemachine;

import com.google.protobuf.ByteString;
import io.flotilla.common.Keys;
import io.flotilla.common.Ranges;
import io.flotilla.proto.BatchEntry;
import io.flotilla.proto.BatchOp;
import io.flotilla.proto.BatchResult;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.DeleteOp;
import io.flotilla.proto.DeleteResult;
import io.flotilla.proto.DeleteSpanOp;
import io.flotilla.proto.DeleteSpanResult;
import io.flotilla.proto.EntryResult;
import io.flotilla.proto.ExpireOp;
import io.flotilla.proto.ExpireResult;
import io.flotilla.proto.Intent;
import io.flotilla.proto.KeyVersion;
import io.flotilla.proto.TxnDecideOp;
import io.flotilla.proto.TxnDecideResult;
import io.flotilla.proto.TxnPrepareOp;
import io.flotilla.proto.TxnPrepareResult;
import io.flotilla.proto.TxnResolveOp;
import io.flotilla.proto.TxnResolveResult;
import io.flotilla.proto.TxnStatus;
import io.flotilla.proto.GetResult;
import io.flotilla.proto.IncrOp;
import io.flotilla.proto.IncrResult;
import io.flotilla.proto.KeyValue;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.PutResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.Rejection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Applies one command to one range: a pure function of (command, range descriptor, revision,
 * prior data) that returns the data mutations and the result.
 *
 * <p>Invariants: a rejected command produces no mutations and keeps the revision; an accepted
 * write command bumps the range revision by exactly one, and every key it writes gets that
 * revision as its version, so versions strictly increase per key and are never reused (the
 * revision only grows, and a child range inherits its parent's). Expiry is judged against the
 * command's proposal time, never the applying node's clock.
 */
public final class RangeLogic {
  /** The outcome of applying one command. {@code revision} is the range revision afterwards. */
  public record Applied(Mutations mutations, CommandResult result, long revision) {}

  private final Command command;
  private final RangeDescriptor range;
  private final KvReader reader;
  private final long newRevision;
  private final long now;
  /** Writes made earlier in this command: key -> value, or Optional.empty() for a delete. */
  private final TreeMap<byte[], Optional<StoredValue>> pending = new TreeMap<>(Keys.ORDER);
  /** Intents written (present) or released (empty) by this command. */
  private final TreeMap<byte[], Optional<Intent>> pendingLocks = new TreeMap<>(Keys.ORDER);

  private RangeLogic(Command command, RangeDescriptor range, long revision, KvReader reader) {
    this.command = command;
    this.range = range;
    this.reader = reader;
    this.newRevision = revision + 1;
    this.now = command.getProposedAtMillis();
  }

  public static Applied apply(Command command, RangeDescriptor range, long revision, KvReader reader) {
    Rejection routing = checkRouting(command, range);
    if (routing != null) {
      return rejected(routing, revision);
    }
    if (range.getFrozenInto() != 0 && !command.hasMergeUnfreeze()) {
      return rejected(Rejection.newBuilder().setReason(Rejection.Reason.RANGE_FROZEN).setCurrent(range)
          .setMessage(Ranges.describe(range) + " is being merged into range " + range.getFrozenInto()).build(),
          revision);
    }
    if (RangeChanges.isRangeChange(command)) {
      return RangeChanges.apply(command, range, revision, reader);
    }
    return new RangeLogic(command, range, revision, reader).run(revision);
  }

  private Applied run(long revision) {
    Rejection locked = lockedByTransaction();
    if (locked != null) {
      return rejected(locked, revision);
    }
    CommandResult.Builder result = CommandResult.newBuilder();
    boolean wrote;
    switch (command.getKindCase()) {
      case PUT -> {
        EntryResult r = put(command.getPut());
        if (r.hasError()) {
          return rejected(r.getError(), revision);
        }
        result.setPut(r.getPut());
        wrote = true;
      }
      case DELETE -> {
        EntryResult r = delete(command.getDelete());
        if (r.hasError()) {
          return rejected(r.getError(), revision);
        }
        result.setDelete(r.getDelete());
        wrote = r.getDelete().getDeleted();
      }
      case INCR -> {
        IncrOp incr = command.getIncr();
        Optional<StoredValue> current = read(incr.getKey().toByteArray());
        long base = 0;
        if (current.isPresent()) {
          Long parsed = parseLong(current.get().value());
          if (parsed == null) {
            return rejected(rejection(Rejection.Reason.NOT_AN_INTEGER,
                "the value is not a decimal integer", current.get().version()), revision);
          }
          base = parsed;
        }
        long value;
        try {
          value = Math.addExact(base, incr.getDelta());
        } catch (ArithmeticException e) {
          return rejected(rejection(Rejection.Reason.NOT_AN_INTEGER,
              "incrementing " + base + " by " + incr.getDelta() + " overflows a 64-bit integer",
              current.map(StoredValue::version).orElse(0L)), revision);
        }
        long expiry = current.map(StoredValue::expiresAtMillis).orElse(0L);
        write(incr.getKey().toByteArray(),
            new StoredValue(newRevision, expiry, Long.toString(value).getBytes(StandardCharsets.US_ASCII)));
        result.setIncr(IncrResult.newBuilder().setValue(value).setVersion(newRevision));
        wrote = true;
      }
      case BATCH -> {
        BatchOp batch = command.getBatch();
        BatchResult.Builder br = BatchResult.newBuilder();
        boolean anyWrite = false;
        for (int i = 0; i < batch.getEntriesCount(); i++) {
          BatchEntry e = batch.getEntries(i);
          EntryResult r = switch (e.getOpCase()) {
            case PUT -> put(e.getPut());
            case DELETE -> delete(e.getDelete());
            case GET -> EntryResult.newBuilder().setGet(get(e.getGet().getKey().toByteArray())).build();
            case OP_NOT_SET -> EntryResult.newBuilder()
                .setError(rejection(Rejection.Reason.INVALID, "batch entry " + i + " has no op", 0)).build();
          };
          if (r.hasError() && batch.getAtomic()) {
            return rejected(r.getError().toBuilder().setFailedIndex(i).build(), revision);
          }
          anyWrite |= r.hasPut() || (r.hasDelete() && r.getDelete().getDeleted());
          br.addResults(r);
        }
        result.setBatch(br);
        wrote = anyWrite;
      }
      case DELETE_SPAN -> {
        result.setDeleteSpan(DeleteSpanResult.newBuilder().setDeleted(deleteSpan(command.getDeleteSpan()))
            .setCoveredEnd(range.getEnd()));
        wrote = result.getDeleteSpan().getDeleted() > 0;
      }
      case TXN_PREPARE -> {
        EntryResult failed = null;
        TxnPrepareResult.Builder prepared = TxnPrepareResult.newBuilder();
        TxnPrepareOp op = command.getTxnPrepare();
        for (int i = 0; i < op.getEntriesCount() && failed == null; i++) {
          EntryResult r = prepare(op, i);
          if (r.hasError()) {
            int index = i < op.getIndexesCount() ? op.getIndexes(i) : i;
            failed = EntryResult.newBuilder().setError(r.getError().toBuilder().setFailedIndex(index)).build();
          }
          prepared.addResults(r);
        }
        if (failed != null) {
          return rejected(failed.getError(), revision);
        }
        lockPreparedKeys(op);
        result.setTxnPrepare(prepared);
        wrote = true; // consumes a revision: it is the version the keys get on commit
      }
      case TXN_DECIDE -> {
        TxnDecideOp op = command.getTxnDecide();
        Intent anchor = lockOn(op.getAnchorKey().toByteArray());
        TxnStatus wanted = op.getCommit() ? TxnStatus.TXN_COMMITTED : TxnStatus.TXN_ABORTED;
        if (anchor == null || !anchor.getTxnId().equals(op.getTxnId())) {
          // No record: the transaction was never prepared here, or it was resolved and its
          // record released. Either way it did not commit through this command.
          if (op.getCommit()) {
            return rejected(Rejection.newBuilder().setReason(Rejection.Reason.TXN_DECIDED)
                .setStatus(TxnStatus.TXN_ABORTED).setMessage("the transaction has no pending record").build(), revision);
          }
          result.setTxnDecide(TxnDecideResult.newBuilder().setStatus(TxnStatus.TXN_ABORTED));
        } else if (anchor.getStatus() == TxnStatus.TXN_PENDING || anchor.getStatus() == wanted) {
          pendingLocks.put(anchor.getKey().toByteArray(), Optional.of(anchor.toBuilder().setStatus(wanted).build()));
          result.setTxnDecide(TxnDecideResult.newBuilder().setStatus(wanted));
        } else {
          return rejected(Rejection.newBuilder().setReason(Rejection.Reason.TXN_DECIDED).setStatus(anchor.getStatus())
              .setMessage("the transaction is already " + anchor.getStatus()).build(), revision);
        }
        wrote = false; // intents are invisible until resolved
      }
      case TXN_RESOLVE -> {
        TxnResolveResult r = resolve(command.getTxnResolve());
        result.setTxnResolve(r);
        wrote = !pending.isEmpty();
      }
      case EXPIRE -> {
        result.setExpire(ExpireResult.newBuilder().setRemoved(expire(command.getExpire())));
        wrote = false; // expired keys are invisible already
      }
      case CHECKSUM -> wrote = false; // the replica computes it after applying (RangeStateMachine)
      default -> {
        return rejected(rejection(Rejection.Reason.INVALID, "command has no operation", 0), revision);
      }
    }
    long after = wrote ? newRevision : revision;
    return new Applied(mutations(), result.setRevision(after).build(), after);
  }

  private static Rejection checkRouting(Command command, RangeDescriptor range) {
    if (command.getRangeId() != range.getId()
        || command.getEpoch().getVersion() != range.getEpoch().getVersion()) {
      return Rejection.newBuilder().setReason(Rejection.Reason.EPOCH_MISMATCH)
          .setMessage("routed to " + Ranges.describe(range) + " with epoch "
              + Ranges.epochString(command.getEpoch()) + " for range " + command.getRangeId())
          .setCurrent(range).build();
    }
    for (byte[] key : keysOf(command)) {
      if (!Ranges.contains(range, key)) {
        return Rejection.newBuilder().setReason(Rejection.Reason.KEY_OUT_OF_RANGE)
            .setMessage("key is outside " + Ranges.describe(range)).setCurrent(range).build();
      }
    }
    return null;
  }

  private static List<byte[]> keysOf(Command command) {
    List<byte[]> keys = new ArrayList<>();
    switch (command.getKindCase()) {
      case PUT -> keys.add(command.getPut().getKey().toByteArray());
      case DELETE -> keys.add(command.getDelete().getKey().toByteArray());
      case INCR -> keys.add(command.getIncr().getKey().toByteArray());
      case BATCH -> command.getBatch().getEntriesList().stream()
          .filter(e -> e.getOpCase() != BatchEntry.OpCase.OP_NOT_SET).forEach(e -> keys.add(keyOf(e)));
      case TXN_PREPARE -> {
        command.getTxnPrepare().getEntriesList().stream()
            .filter(e -> e.getOpCase() != BatchEntry.OpCase.OP_NOT_SET).forEach(e -> keys.add(keyOf(e)));
        if (command.getTxnPrepare().getParticipantKeysCount() > 0) {
          keys.add(command.getTxnPrepare().getAnchorKey().toByteArray());
        }
      }
      case TXN_DECIDE -> keys.add(command.getTxnDecide().getAnchorKey().toByteArray());
      case TXN_RESOLVE -> command.getTxnResolve().getKeysList().forEach(k -> keys.add(k.toByteArray()));
      case EXPIRE -> command.getExpire().getKeysList().forEach(k -> keys.add(k.getKey().toByteArray()));
      default -> { }
    }
    return keys;
  }

  /** The entry's key; empty for an entry without an op (which is refused as invalid). */
  private static byte[] keyOf(BatchEntry e) {
    return switch (e.getOpCase()) {
      case PUT -> e.getPut().getKey().toByteArray();
      case DELETE -> e.getDelete().getKey().toByteArray();
      case GET -> e.getGet().getKey().toByteArray();
      case OP_NOT_SET -> new byte[0];
    };
  }

  // ---- transactions -------------------------------------------------------------------

  /**
   * Plain writes never touch a key a transaction has locked: the whole command is refused, so
   * the caller can resolve the transaction and retry. Transaction commands pass.
   *
   * <p>A batch's gets meet write intents too. They read the committed value, which is the old
   * one while a committed transaction's intent on the key waits for resolution; another key of
   * the same transaction may already show its new value, so a batch that read past the intent
   * could see half of the transaction. (Reads outside the log resolve such intents themselves;
   * a transaction's read lock changes no value, so gets pass it.)
   */
  private Rejection lockedByTransaction() {
    if (command.getKindCase() == Command.KindCase.BATCH) {
      for (BatchEntry e : command.getBatch().getEntriesList()) {
        Intent lock = e.getOpCase() == BatchEntry.OpCase.OP_NOT_SET ? null : lockOn(keyOf(e));
        if (lock != null && (e.getOpCase() != BatchEntry.OpCase.GET || lock.getWrite())) {
          return lockedBy(lock);
        }
      }
      return null;
    }
    List<byte[]> written = switch (command.getKindCase()) {
      case PUT, DELETE, INCR -> keysOf(command);
      case DELETE_SPAN -> {
        Intent first = firstLockIn(command.getDeleteSpan().getStart().toByteArray(),
            command.getDeleteSpan().getEnd().toByteArray());
        yield first == null ? List.of() : List.of(first.getKey().toByteArray());
      }
      default -> List.of();
    };
    for (byte[] key : written) {
      Intent lock = lockOn(key);
      if (lock != null) {
        return lockedBy(lock);
      }
    }
    return null;
  }

  private static Rejection lockedBy(Intent lock) {
    return Rejection.newBuilder().setReason(Rejection.Reason.LOCKED).setLock(lock)
        .setMessage("the key is locked by a transaction in progress").build();
  }

  private Intent firstLockIn(byte[] from, byte[] to) {
    byte[] start = Keys.maxStart(from, range.getStart().toByteArray());
    byte[] end = Keys.minEnd(to, range.getEnd().toByteArray());
    try (KvIterator it = reader.iterate(ColumnFamily.LOCKS, start, end, false)) {
      return it.valid() ? Intents.decode(it.value()) : null;
    }
  }

  /** The intent on a key as of this point in the command, or null. */
  private Intent lockOn(byte[] key) {
    Optional<Intent> mine = pendingLocks.get(key);
    if (mine != null) {
      return mine.orElse(null);
    }
    byte[] stored = reader.get(ColumnFamily.LOCKS, key);
    return stored == null ? null : Intents.decode(stored);
  }

  /** Checks one entry of a prepare (as a batch entry, seeing the earlier entries' effects). */
  private EntryResult prepare(TxnPrepareOp op, int i) {
    BatchEntry e = op.getEntries(i);
    byte[] key = keyOf(e);
    Intent held = lockOn(key);
    if (held != null && !held.getTxnId().equals(op.getTxnId())) {
      return EntryResult.newBuilder().setError(Rejection.newBuilder().setReason(Rejection.Reason.LOCKED)
          .setLock(held).setMessage("the key is locked by another transaction")).build();
    }
    return switch (e.getOpCase()) {
      case PUT -> put(e.getPut());
      case DELETE -> delete(e.getDelete());
      case GET -> EntryResult.newBuilder().setGet(get(key)).build();
      case OP_NOT_SET -> EntryResult.newBuilder()
          .setError(rejection(Rejection.Reason.INVALID, "transaction entry " + i + " has no op", 0)).build();
    };
  }

  /**
   * Turns the prepared effects (in {@code pending}) into intents: nothing is written to DATA
   * until the transaction resolves. Keys only read are locked too, so the values read stay
   * true until the commit point.
   */
  private void lockPreparedKeys(TxnPrepareOp op) {
    TreeMap<byte[], Optional<StoredValue>> effects = new TreeMap<>(pending);
    pending.clear();
    ByteString anchor = op.getAnchorKey();
    for (BatchEntry e : op.getEntriesList()) {
      byte[] key = keyOf(e);
      Intent.Builder intent = Intent.newBuilder().setTxnId(op.getTxnId()).setKey(ByteString.copyFrom(key))
          .setAnchorKey(anchor).setStartedAtMillis(now).setVersion(newRevision).setPriority(op.getPriority());
      Optional<StoredValue> effect = effects.get(key);
      if (effect != null) {
        intent.setWrite(true);
        if (effect.isPresent()) {
          intent.setValue(ByteString.copyFrom(effect.get().value())).setExpiresAtMillis(effect.get().expiresAtMillis());
        } else {
          intent.setTombstone(true);
        }
      }
      if (anchor.equals(intent.getKey())) {
        intent.setStatus(TxnStatus.TXN_PENDING).addAllParticipantKeys(op.getParticipantKeysList());
      }
      pendingLocks.put(key, Optional.of(intent.build()));
    }
  }

  private TxnResolveResult resolve(TxnResolveOp op) {
    int resolved = 0;
    int undecided = 0;
    for (ByteString k : op.getKeysList()) {
      byte[] key = k.toByteArray();
      Intent lock = lockOn(key);
      if (lock == null || !lock.getTxnId().equals(op.getTxnId())) {
        continue; // resolved already, or never prepared
      }
      boolean commit = op.getCommit();
      if (lock.getAnchorKey().equals(lock.getKey())) {
        if (lock.getStatus() == TxnStatus.TXN_PENDING) {
          undecided++;
          continue; // the record outlives every other intent; it goes only once decided
        }
        commit = lock.getStatus() == TxnStatus.TXN_COMMITTED;
      }
      if (commit && lock.getWrite()) {
        pending.put(key, lock.getTombstone() ? Optional.empty()
            : Optional.of(new StoredValue(lock.getVersion(), lock.getExpiresAtMillis(), lock.getValue().toByteArray())));
      }
      pendingLocks.put(key, Optional.empty());
      resolved++;
    }
    return TxnResolveResult.newBuilder().setResolved(resolved).setStillPending(undecided).build();
  }

  private long expire(ExpireOp op) {
    long removed = 0;
    for (KeyVersion kv : op.getKeysList()) {
      byte[] key = kv.getKey().toByteArray();
      byte[] stored = reader.get(ColumnFamily.DATA, key);
      if (stored == null || lockOn(key) != null) {
        continue;
      }
      StoredValue v = StoredValue.decode(stored);
      if (v.version() == kv.getVersion() && v.expiredAt(now)) {
        pending.put(key, Optional.empty());
        removed++;
      }
    }
    return removed;
  }

  private EntryResult put(PutOp put) {
    byte[] key = put.getKey().toByteArray();
    if (put.hasIfVersion()) {
      Rejection conflict = checkVersion(key, put.getIfVersion());
      if (conflict != null) {
        return EntryResult.newBuilder().setError(conflict).build();
      }
    }
    write(key, new StoredValue(newRevision, put.getExpiresAtMillis(), put.getValue().toByteArray()));
    return EntryResult.newBuilder().setPut(PutResult.newBuilder()
        .setVersion(newRevision).setExpiresAtMillis(put.getExpiresAtMillis())).build();
  }

  private EntryResult delete(DeleteOp delete) {
    byte[] key = delete.getKey().toByteArray();
    if (delete.hasIfVersion()) {
      Rejection conflict = checkVersion(key, delete.getIfVersion());
      if (conflict != null) {
        return EntryResult.newBuilder().setError(conflict).build();
      }
    }
    boolean existed = read(key).isPresent();
    if (existed) {
      pending.put(key, Optional.empty());
    }
    return EntryResult.newBuilder().setDelete(DeleteResult.newBuilder().setDeleted(existed)).build();
  }

  private GetResult get(byte[] key) {
    return read(key).map(v -> GetResult.newBuilder().setFound(true).setKv(KeyValue.newBuilder()
            .setKey(ByteString.copyFrom(key)).setValue(ByteString.copyFrom(v.value()))
            .setVersion(v.version()).setExpiresAtMillis(v.expiresAtMillis())).build())
        .orElse(GetResult.newBuilder().setFound(false).build());
  }

  private long deleteSpan(DeleteSpanOp op) {
    byte[] start = Keys.maxStart(op.getStart().toByteArray(), range.getStart().toByteArray());
    byte[] end = Keys.minEnd(op.getEnd().toByteArray(), range.getEnd().toByteArray());
    long deleted = 0;
    try (KvIterator it = reader.iterate(ColumnFamily.DATA, start, end, false)) {
      for (; it.valid(); it.next()) {
        if (!StoredValue.decode(it.value()).expiredAt(now)) {
          deleted++;
        }
        // Expired keys go too: they are invisible already, and this reclaims their space.
        pending.put(it.key(), Optional.empty());
      }
    }
    return deleted;
  }

  private Rejection checkVersion(byte[] key, long expected) {
    long current = read(key).map(StoredValue::version).orElse(0L);
    if (current == expected) {
      return null;
    }
    String message = expected == 0
        ? "the key already exists (version " + current + ")"
        : "expected version " + expected + " but the current version is " + current;
    return rejection(Rejection.Reason.VERSION_CONFLICT, message, current);
  }

  /** The live value of a key as of this point in the command, or empty if absent or expired. */
  private Optional<StoredValue> read(byte[] key) {
    Optional<StoredValue> mine = pending.get(key);
    if (mine != null) {
      return mine;
    }
    byte[] stored = reader.get(ColumnFamily.DATA, key);
    if (stored == null) {
      return Optional.empty();
    }
    StoredValue v = StoredValue.decode(stored);
    return v.expiredAt(now) ? Optional.empty() : Optional.of(v);
  }

  private void write(byte[] key, StoredValue value) {
    pending.put(key, Optional.of(value));
  }

  private Mutations mutations() {
    Mutations m = new Mutations();
    pending.forEach((key, value) -> {
      if (value.isPresent()) {
        m.put(ColumnFamily.DATA, key, value.get().encode());
      } else {
        m.delete(ColumnFamily.DATA, key);
      }
    });
    pendingLocks.forEach((key, intent) -> {
      if (intent.isPresent()) {
        m.put(ColumnFamily.LOCKS, key, intent.get().toByteArray());
      } else {
        m.delete(ColumnFamily.LOCKS, key);
      }
    });
    return m;
  }

  private static Applied rejected(Rejection rejection, long revision) {
    return new Applied(new Mutations(),
        CommandResult.newBuilder().setRevision(revision).setRejected(rejection).build(), revision);
  }

  static Rejection rejection(Rejection.Reason reason, String message, long currentVersion) {
    return Rejection.newBuilder().setReason(reason).setMessage(message).setCurrentVersion(currentVersion).build();
  }

  /** Strict decimal parse: optional '-', then 1..19 digits; null when not a long. */
  static Long parseLong(byte[] value) {
    if (value.length == 0 || value.length > 20) {
      return null;
    }
    for (int i = 0; i < value.length; i++) {
      byte b = value[i];
      boolean digit = b >= '0' && b <= '9';
      if (!digit && !(i == 0 && b == '-' && value.length > 1)) {
        return null;
      }
    }
    try {
      return Long.parseLong(new String(value, StandardCharsets.US_ASCII));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
