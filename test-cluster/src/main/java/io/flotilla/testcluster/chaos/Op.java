package io.flotilla.testcluster.chaos;

/**
 * One line of a history, as Jepsen records it: a client process {@code invoke}s an operation,
 * which then completes as {@code ok} (it happened), {@code fail} (it certainly did not happen)
 * or {@code info} (unknown: a timeout or a lost connection; it may have happened, or may yet).
 *
 * @param process the client that issued it (one operation at a time per process)
 * @param type invoke, ok, fail or info
 * @param f the operation: read, write, cas, add, incr, transfer, ...
 * @param key the key it works on (null for whole-workload operations)
 * @param value its argument on invoke, its result on completion (workload-specific text)
 * @param nanos when it was recorded, relative to the start of the run
 */
public record Op(int process, Type type, String f, String key, String value, long nanos) {
  public enum Type { INVOKE, OK, FAIL, INFO }

  public Op complete(Type outcome, String result, long at) {
    return new Op(process, outcome, f, key, result, at);
  }
}
