package io.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.BatchEntry;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.EntryResult;
import io.flotilla.proto.RangeDescriptor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays one random command log on two replicas with different engines, as Raft does on
 * different nodes. Replay a failure with {@code -Dflotilla.seed=<seed printed in the message>}.
 */
class RangeLogicReplayTest {
  private static final RangeDescriptor RANGE = Replica.range(4, "k", "", 2, 3);
  private static final String[] KEYS = {"k", "k1", "k2", "ka", "kb", "l", "m", "z"};

  @TempDir
  Path dir;

  @Test
  void replicasOnDifferentEnginesApplyingTheSameLogAgreeOnEveryResultAndOnTheirData() {
    long seed = Seeds.announce(getClass());
    String replay = Seeds.describe(seed);
    Random random = new Random(seed);
    try (RocksDbKvEngine rocks = RocksDbKvEngine.open(dir.resolve("db"), 8 << 20)) {
      Replica a = new Replica(new InMemoryKvEngine(), RANGE);
      Replica b = new Replica(rocks, RANGE);
      Map<String, Long> highestVersionSeen = new HashMap<>();
      for (int i = 0; i < 600; i++) {
        long now = Replica.START_MILLIS + i * 10L;
        a.now = now;
        b.now = now;
        Command.Builder command = randomCommand(random, now);
        long before = a.revision;
        CommandResult ra = a.apply(command.clone());
        CommandResult rb = b.apply(command.clone());
        assertEquals(ra, rb, () -> "command " + command + " diverged, " + replay);
        for (Map.Entry<String, Long> written : versionsWritten(command.build(), ra).entrySet()) {
          assertEquals(before + 1, written.getValue(), () -> "a write's version is the new revision, " + replay);
          Long previous = highestVersionSeen.put(written.getKey(), written.getValue());
          assertTrue(previous == null || previous < written.getValue(),
              () -> "version of " + written.getKey() + " did not increase, " + replay);
        }
      }
      assertEquals(RangeSnapshots.checksum(a.engine, RANGE), RangeSnapshots.checksum(b.engine, RANGE), replay);
      assertEquals(RangeQueries.countKeys(a.engine, RANGE), RangeQueries.countKeys(b.engine, RANGE), replay);
    }
  }

  /** key -> version for every put and incr the result reports as applied. */
  private static Map<String, Long> versionsWritten(Command command, CommandResult result) {
    Map<String, Long> out = new HashMap<>();
    if (result.hasPut()) {
      out.put(command.getPut().getKey().toStringUtf8(), result.getPut().getVersion());
    } else if (result.hasIncr()) {
      out.put(command.getIncr().getKey().toStringUtf8(), result.getIncr().getVersion());
    } else if (result.hasBatch()) {
      for (int i = 0; i < result.getBatch().getResultsCount(); i++) {
        EntryResult r = result.getBatch().getResults(i);
        if (r.hasPut()) {
          out.put(command.getBatch().getEntries(i).getPut().getKey().toStringUtf8(), r.getPut().getVersion());
        }
      }
    }
    return out;
  }

  private static Command.Builder randomCommand(Random random, long now) {
    String key = KEYS[random.nextInt(KEYS.length)];
    return switch (random.nextInt(7)) {
      case 0 -> Replica.put(key, "v" + random.nextInt(100));
      case 1 -> Replica.putExpiring(key, Integer.toString(random.nextInt(100)), now + random.nextInt(200));
      case 2 -> Replica.putIf(key, "cas", random.nextInt(3) == 0 ? 0 : random.nextInt(600));
      case 3 -> random.nextBoolean() ? Replica.delete(key) : Replica.deleteIf(key, random.nextInt(600));
      case 4 -> Replica.incr(key, random.nextInt(21) - 10);
      case 5 -> {
        List<BatchEntry.Builder> entries = new ArrayList<>();
        for (int n = 1 + random.nextInt(4); n > 0; n--) {
          String k = KEYS[random.nextInt(KEYS.length)];
          entries.add(switch (random.nextInt(4)) {
            case 0 -> Replica.entry(Replica.putOp(k, "b"));
            case 1 -> Replica.entry(Replica.putOp(k, "b").setIfVersion(random.nextInt(2) == 0 ? 0 : random.nextInt(600)));
            case 2 -> Replica.entry(Replica.deleteOp(k));
            default -> Replica.entryGet(k);
          });
        }
        yield Replica.batch(random.nextBoolean(), entries.toArray(BatchEntry.Builder[]::new));
      }
      default -> {
        String other = KEYS[random.nextInt(KEYS.length)];
        yield Replica.deleteSpan(key.compareTo(other) <= 0 ? key : other, key.compareTo(other) <= 0 ? other : key);
      }
    };
  }
}
