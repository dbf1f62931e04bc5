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
    return new RangeLogic(command, range, revision, reader).run(revision);
  }

  private Applied run(long revision) {
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
      case BATCH -> {
        for (BatchEntry e : command.getBatch().getEntriesList()) {
          switch (e.getOpCase()) {
            case PUT -> keys.add(e.getPut().getKey().toByteArray());
            case DELETE -> keys.add(e.getDelete().getKey().toByteArray());
            case GET -> keys.add(e.getGet().getKey().toByteArray());
            default -> { }
          }
        }
      }
      default -> { }
    }
    return keys;
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
