package io.flotilla.bench.load;

/**
 * How one generator operation ended.
 *
 * @param cause for {@link Kind#FAILED}, a few words naming why (grouped in the error summary)
 */
public record Outcome(Kind kind, String cause) {
  public enum Kind {
    /** The store answered with success. */
    OK,
    /** A read answered correctly that the key is absent (counted, but not an error). */
    MISSING,
    /** No answer, or an error answer: counted as an error and left out of the latencies. */
    FAILED
  }

  public static final Outcome OK = new Outcome(Kind.OK, null);
  public static final Outcome MISSING = new Outcome(Kind.MISSING, null);

  public static Outcome failed(String cause) {
    return new Outcome(Kind.FAILED, cause);
  }

  /** Success for a 200 answer, else a failure named by its status and error code. */
  public static Outcome of(HttpResponse response) {
    return response.status() == 200 ? OK : failed(response.failureCause());
  }

  public boolean succeeded() {
    return kind != Kind.FAILED;
  }
}
