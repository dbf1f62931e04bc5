package io.flotilla.bench.load;

import java.nio.charset.StandardCharsets;

/**
 * A whole HTTP answer: status, body and whether the server closes the connection after it.
 *
 * @param close true when the server said {@code Connection: close} (or sent no length)
 */
public record HttpResponse(int status, byte[] body, boolean close) {
  /** True when the body holds {@code needle} (an ASCII marker such as {@code "kvs"}). */
  public boolean bodyContains(String needle) {
    byte[] n = needle.getBytes(StandardCharsets.US_ASCII);
    outer:
    for (int i = 0; i + n.length <= body.length; i++) {
      for (int j = 0; j < n.length; j++) {
        if (body[i + j] != n[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /**
   * Why a request failed, in a few words for the error summary: the status and the
   * {@code "error"} field of the JSON error body, which Flotilla (shared/API.md) and etcd's
   * gateway both send.
   */
  public String failureCause() {
    String text = new String(body, 0, Math.min(body.length, 2048), StandardCharsets.UTF_8);
    int at = text.indexOf("\"error\":");
    String error = "";
    if (at >= 0) {
      int open = text.indexOf('"', at + 8);
      int end = open < 0 ? -1 : text.indexOf('"', open + 1);
      if (end > open) {
        error = " " + text.substring(open + 1, Math.min(end, open + 81));
      }
    }
    return "HTTP " + status + error;
  }
}
