package io.flotilla.testcluster.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every operation of a run in the order recorded, with times relative to the run's start. */
public final class History {
  /** The process id of nemesis events (faults starting and healing). */
  public static final int NEMESIS = -1;

  private final long startNanos = System.nanoTime();
  private final List<Op> ops = new ArrayList<>();

  public long now() {
    return System.nanoTime() - startNanos;
  }

  public synchronized Op invoke(int process, String f, String key, String value) {
    Op op = new Op(process, Op.Type.INVOKE, f, key, value, now());
    ops.add(op);
    return op;
  }

  public synchronized void complete(Op invoke, Op.Type outcome, String result) {
    ops.add(invoke.complete(outcome, result, now()));
  }

  public synchronized void nemesis(String f, String what) {
    ops.add(new Op(NEMESIS, Op.Type.INFO, f, null, what, now()));
  }

  public synchronized List<Op> ops() {
    return List.copyOf(ops);
  }

  /** Writes the history as JSON lines, one operation per line. */
  public void write(Path file) throws IOException {
    ObjectMapper json = new ObjectMapper();
    try (Writer w = Files.newBufferedWriter(file)) {
      for (Op op : ops()) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("process", op.process() == NEMESIS ? "nemesis" : op.process());
        line.put("type", op.type().name().toLowerCase(java.util.Locale.ROOT));
        line.put("f", op.f());
        if (op.key() != null) {
          line.put("key", op.key());
        }
        line.put("value", op.value());
        line.put("time_ms", op.nanos() / 1_000_000.0);
        w.write(json.writeValueAsString(line));
        w.write('\n');
      }
    }
  }
}
