package io.flotilla.api.auth;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What a token may do; each role may do what the ones before it may.
 * <ul>
 *   <li>{@code read}: get, scan, and batches of gets;
 *   <li>{@code write}: also put, delete, increment, and batches with writes;
 *   <li>{@code admin}: also {@code /v1/admin} (split, merge, move, decommission, cluster state)
 *       and the node's own {@code /admin} pages (metrics, threads, tasks);
 *   <li>{@code node}: also {@code /internal}, the nodes' calls to each other; only the cluster
 *       token has it.
 * </ul>
 */
public enum Role {
  READ, WRITE, ADMIN, NODE;

  /** Whether this role may do what {@code needed} may. */
  public boolean covers(Role needed) {
    return compareTo(needed) >= 0;
  }

  @JsonValue
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static Role of(String name) {
    for (Role r : values()) {
      if (r.wireName().equals(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown role '" + name + "' (read, write or admin)");
  }
}
